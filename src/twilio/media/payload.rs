//! Is a `media` payload base64, without decoding it?
//!
//! With μ-law passthrough the caller's payload goes to the engine as the same base64 text, so a
//! corrupt frame would only be noticed by the engine, as an `error` event in the middle of the
//! call. Checking the shape here lets the session drop that frame and log it instead, for one
//! table lookup per character of a frame it must copy anyway (no buffer, no allocation).
//!
//! "Valid" means what the `base64` crate's standard engine accepts, which is also what Twilio
//! writes: the standard alphabet, a length that is a multiple of four, at most two `=` and only
//! at the end, and no stray bits in the last symbol. A property test holds the two in agreement.

use base64::DecodeError;

/// Each byte's 6-bit value in the standard alphabet, or `INVALID`.
const VALUES: [u8; 256] = values();
const INVALID: u8 = 0xFF;

const fn values() -> [u8; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

/// Checks that `text` is canonical, padded standard base64; the error names the first fault
/// the way [`base64`]'s decoder would.
pub(crate) fn check_base64(text: &[u8]) -> Result<(), DecodeError> {
    let padding = text
        .iter()
        .rev()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    let symbols = &text[..text.len() - padding];
    if let Some(at) = symbols.iter().position(|&b| VALUES[b as usize] == INVALID) {
        return Err(DecodeError::InvalidByte(at, symbols[at]));
    }
    if !text.len().is_multiple_of(4) {
        return Err(DecodeError::InvalidLength(text.len()));
    }
    // The bits past the last whole byte must be zero: 2 of them when one `=` pads, 4 when two do.
    let spare_bits = [0u8, 0b11, 0b1111][padding];
    if let Some(&last) = symbols.last()
        && VALUES[last as usize] & spare_bits != 0
    {
        return Err(DecodeError::InvalidLastSymbol(symbols.len() - 1, last));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn what_twilio_sends_is_valid() {
        for len in [0, 1, 2, 3, 160, 161, 162] {
            let payload = STANDARD.encode(vec![0x7E; len]);
            assert_eq!(check_base64(payload.as_bytes()), Ok(()), "{len} bytes");
        }
    }

    #[test]
    fn each_kind_of_fault_is_named() {
        let cases: [(&str, DecodeError); 6] = [
            ("fn7+fn7*", DecodeError::InvalidByte(7, b'*')),
            ("fn7+\"}],", DecodeError::InvalidByte(4, b'"')),
            ("fn=+fn7+", DecodeError::InvalidByte(2, b'=')),
            ("fn7+f", DecodeError::InvalidLength(5)),
            ("fn7+f===", DecodeError::InvalidByte(5, b'=')),
            ("fn7+fn9=", DecodeError::InvalidLastSymbol(6, b'9')),
        ];
        for (payload, expected) in cases {
            assert_eq!(check_base64(payload.as_bytes()), Err(expected), "{payload}");
        }
    }

    /// Strings over the alphabet and `=`, plus a few other bytes, at every length near a frame's.
    fn base64_like() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            20 => prop::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()
            ),
            2 => Just(b'='),
            1 => any::<u8>(),
        ];
        prop::collection::vec(byte, 0..24)
    }

    proptest! {
        #[test]
        fn agrees_with_the_base64_crate(text in base64_like()) {
            prop_assert_eq!(check_base64(&text).is_ok(), STANDARD.decode(&text).is_ok());
        }

        #[test]
        fn every_encoding_is_valid(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            prop_assert_eq!(check_base64(STANDARD.encode(bytes).as_bytes()), Ok(()));
        }
    }
}
