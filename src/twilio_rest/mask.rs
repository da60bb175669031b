//! Phone-number masking for log lines and `Debug` output: callers' numbers are personal data, and
//! the last four digits are enough to tell calls apart when reading logs.

use std::fmt;

/// `+14155551234` → `+***1234`; `sip:alice@example.com` → `sip:***`; up to four digits → `***`.
///
/// The output never says how long the number was, and non-phone addresses (SIP URIs, `client:`
/// identities) keep only their scheme, because the user part identifies the person.
pub fn mask_phone(number: &str) -> String {
    MaskedPhone(number).to_string()
}

/// A [`Display`](fmt::Display) adapter doing [`mask_phone`] without an allocation, for tracing
/// fields: `tracing::info!(to = %MaskedPhone(&to), "…")`.
#[derive(Clone, Copy)]
pub struct MaskedPhone<'a>(pub &'a str);

impl fmt::Display for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.0.trim();
        if let Some((scheme, _)) = number.split_once(':')
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
        {
            return write!(f, "{scheme}:***");
        }
        if number.starts_with('+') {
            f.write_str("+")?;
        }
        f.write_str("***")?;
        let digits = number.bytes().filter(u8::is_ascii_digit).count();
        if digits > 4 {
            let last_four = number.bytes().filter(u8::is_ascii_digit).skip(digits - 4);
            for digit in last_four {
                write!(f, "{}", char::from(digit))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Masks every run of seven or more digits (optionally after a `+`) in free text, such as the
/// `message` of a Twilio error ("The 'To' number 5551234567 is not a valid phone number.").
///
/// Runs glued to letters are left alone: those are SIDs or tokens, not phone numbers. Error codes
/// (five digits) survive.
pub(crate) fn mask_numbers_in(text: &str) -> String {
    const MIN_RUN: usize = 7;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = if i > 0 && bytes[i - 1] == b'+' {
            i - 1
        } else {
            i
        };
        let mut end = i;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        let glued = (start > 0 && bytes[start - 1].is_ascii_alphabetic())
            || (end < bytes.len() && bytes[end].is_ascii_alphabetic());
        if end - i >= MIN_RUN && !glued {
            // Digits and '+' are ASCII, so these indices are char boundaries.
            out.push_str(&text[copied..start]);
            out.push_str(&mask_phone(&text[start..end]));
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_keep_only_the_last_four_digits() {
        assert_eq!(mask_phone("+14155551234"), "+***1234");
        assert_eq!(mask_phone("+447700900123"), "+***0123");
    }

    #[test]
    fn formatted_and_national_numbers_are_masked_the_same_way() {
        assert_eq!(mask_phone("(415) 555-1234"), "***1234");
        assert_eq!(mask_phone(" 4155551234 "), "***1234");
    }

    #[test]
    fn short_numbers_are_masked_completely() {
        assert_eq!(mask_phone("911"), "***");
        assert_eq!(mask_phone("1234"), "***");
        assert_eq!(mask_phone(""), "***");
        assert_eq!(mask_phone("+"), "+***");
    }

    #[test]
    fn sip_and_client_addresses_keep_only_their_scheme() {
        assert_eq!(mask_phone("sip:alice@example.com"), "sip:***");
        assert_eq!(mask_phone("client:bob"), "client:***");
        assert_eq!(mask_phone("sip:+14155551234@trunk.example"), "sip:***");
    }

    #[test]
    fn the_length_of_the_number_is_not_revealed() {
        assert_eq!(mask_phone("+14155551234"), mask_phone("+4915205551234"));
    }

    #[test]
    fn masked_phone_displays_like_mask_phone_and_debugs_quoted() {
        assert_eq!(MaskedPhone("+14155551234").to_string(), "+***1234");
        assert_eq!(format!("{:?}", MaskedPhone("+14155551234")), "\"+***1234\"");
    }

    #[test]
    fn numbers_inside_error_messages_are_masked() {
        assert_eq!(
            mask_numbers_in("The 'To' number 5551234567 is not a valid phone number."),
            "The 'To' number ***4567 is not a valid phone number."
        );
        assert_eq!(
            mask_numbers_in("from +14155551234 to +442071234567."),
            "from +***1234 to +***4567."
        );
    }

    #[test]
    fn codes_sids_and_non_ascii_text_survive_masking() {
        let text = "Error 21211 on CA1234567890abcdef, naïve café 12";
        assert_eq!(mask_numbers_in(text), text);
        assert_eq!(mask_numbers_in("ü 1234567 ü"), "ü ***4567 ü");
    }
}
