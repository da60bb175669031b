//! Decoding text files: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order
//! mark, and Windows-1252 as the fallback for legacy files. Binary data is refused.

use super::{ExtractError, Format};

/// Windows-1252's printable characters at 0x80–0x9F (where Latin-1 has control codes).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Decodes a text file's bytes; `format` only labels errors.
pub(super) fn decode(bytes: &[u8], format: Format) -> Result<String, ExtractError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest, format);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes, format);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes, format);
    }
    if looks_binary(bytes) {
        return Err(corrupt(format, "binary data, not text"));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => Ok(bytes.iter().map(|&b| cp1252(b)).collect()),
    }
}

fn utf8(bytes: &[u8], format: Format) -> Result<String, ExtractError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| corrupt(format, &format!("invalid UTF-8: {e}")))
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16, format: Format) -> Result<String, ExtractError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(corrupt(format, "UTF-16 text with an odd number of bytes"));
    }
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| corrupt(format, &format!("invalid UTF-16: {e}")))
}

/// NUL bytes, or many control bytes, mean this is not a text file.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    head.contains(&0) || controls * 20 > head.len().max(1)
}

fn cp1252(b: u8) -> char {
    match b {
        0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

fn corrupt(format: Format, reason: &str) -> ExtractError {
    ExtractError::Corrupt {
        format,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("café".as_bytes(), Format::Text).unwrap(), "café");
        assert_eq!(decode(b"\xEF\xBB\xBFhi", Format::Text).unwrap(), "hi");
    }

    #[test]
    fn utf16_with_a_bom_in_both_byte_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("né".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("né".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&le, Format::Text).unwrap(), "né");
        assert_eq!(decode(&be, Format::Markdown).unwrap(), "né");
        assert!(matches!(
            decode(&le[..3], Format::Text),
            Err(ExtractError::Corrupt { .. })
        ));
    }

    #[test]
    fn legacy_windows_1252_is_decoded() {
        // "Café – 5 €" as Windows-1252.
        let bytes = b"Caf\xe9 \x96 5 \x80";
        assert_eq!(decode(bytes, Format::Text).unwrap(), "Café – 5 €");
    }

    #[test]
    fn binary_data_is_refused() {
        let err = decode(b"\x00\x01\x02binary\x00", Format::Text).unwrap_err();
        assert_eq!(
            err,
            ExtractError::Corrupt {
                format: Format::Text,
                reason: "binary data, not text".into()
            }
        );
    }
}
