//! Place tables more than one stage reads: ingest finds a posting's country from ", TX", and
//! the classifier knows "Conshohocken, PA" names a place, not a personal assistant.

/// US states (+ DC) as `CODE|Name`, names with `_` for spaces.
pub const US_STATES: &str =
    "AL|Alabama AK|Alaska AZ|Arizona AR|Arkansas CA|California CO|Colorado \
CT|Connecticut DE|Delaware FL|Florida GA|Georgia HI|Hawaii ID|Idaho IL|Illinois IN|Indiana \
IA|Iowa KS|Kansas KY|Kentucky LA|Louisiana ME|Maine MD|Maryland MA|Massachusetts MI|Michigan \
MN|Minnesota MS|Mississippi MO|Missouri MT|Montana NE|Nebraska NV|Nevada NH|New_Hampshire \
NJ|New_Jersey NM|New_Mexico NY|New_York NC|North_Carolina ND|North_Dakota OH|Ohio OK|Oklahoma \
OR|Oregon PA|Pennsylvania RI|Rhode_Island SC|South_Carolina SD|South_Dakota TN|Tennessee \
TX|Texas UT|Utah VT|Vermont VA|Virginia WA|Washington WV|West_Virginia WI|Wisconsin WY|Wyoming \
DC|District_of_Columbia";

/// Whether `code` (any case) is a US state's or DC's two-letter code.
pub fn is_us_state_code(code: &str) -> bool {
    US_STATES
        .split_whitespace()
        .filter_map(|item| item.split_once('|'))
        .any(|(c, _)| c.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_codes_in_any_case() {
        assert!(super::is_us_state_code("PA"));
        assert!(super::is_us_state_code("dc"));
        assert!(!super::is_us_state_code("ON"));
        assert!(!super::is_us_state_code("P"));
    }
}
