//! ISO 3166-1 alpha-2 country codes from a country column or from free location text.
//!
//! A compact built-in table (code, English short name, common aliases and alpha-3 codes), the
//! US states (a location ending in ", TX" or ", Texas" is in the US), Canadian provinces and a
//! short list of large job-market cities. Rules, in order:
//! - a country column: an alpha-2 code (as ISO), an alpha-3 code, a name or alias;
//! - location text: split on `,` `|` `/` `;` `(` `)` and ` - `, then from the last segment to the
//!   first: a two-letter upper-case segment is a US state when it is one (so "Portland, OR" is
//!   US, not Oregon-as-a-country), else an ISO code; then names/aliases, provinces, cities.
//!   "Remote" and unknown places give no country (null), never a guess.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `CODE|Name|alias|alias...` one country a line.
const COUNTRIES: &str = "\
AD|Andorra|AND
AE|United Arab Emirates|UAE|ARE|Dubai|Abu Dhabi
AF|Afghanistan|AFG
AG|Antigua and Barbuda|ATG
AI|Anguilla|AIA
AL|Albania|ALB
AM|Armenia|ARM
AO|Angola|AGO
AQ|Antarctica|ATA
AR|Argentina|ARG
AS|American Samoa|ASM
AT|Austria|AUT|Österreich
AU|Australia|AUS
AW|Aruba|ABW
AX|Åland Islands|ALA
AZ|Azerbaijan|AZE
BA|Bosnia and Herzegovina|BIH|Bosnia
BB|Barbados|BRB
BD|Bangladesh|BGD
BE|Belgium|BEL|België|Belgique
BF|Burkina Faso|BFA
BG|Bulgaria|BGR
BH|Bahrain|BHR
BI|Burundi|BDI
BJ|Benin|BEN
BL|Saint Barthélemy|BLM
BM|Bermuda|BMU
BN|Brunei|BRN|Brunei Darussalam
BO|Bolivia|BOL
BQ|Caribbean Netherlands|BES
BR|Brazil|BRA|Brasil
BS|Bahamas|BHS|The Bahamas
BT|Bhutan|BTN
BW|Botswana|BWA
BY|Belarus|BLR
BZ|Belize|BLZ
CA|Canada|CAN
CC|Cocos (Keeling) Islands|CCK
CD|Democratic Republic of the Congo|COD|DR Congo|DRC|Congo-Kinshasa
CF|Central African Republic|CAF
CG|Republic of the Congo|COG|Congo|Congo-Brazzaville
CH|Switzerland|CHE|Schweiz|Suisse
CI|Côte d'Ivoire|CIV|Ivory Coast|Cote d'Ivoire
CK|Cook Islands|COK
CL|Chile|CHL
CM|Cameroon|CMR
CN|China|CHN|PRC|People's Republic of China|Mainland China
CO|Colombia|COL
CR|Costa Rica|CRI
CU|Cuba|CUB
CV|Cape Verde|CPV|Cabo Verde
CW|Curaçao|CUW|Curacao
CX|Christmas Island|CXR
CY|Cyprus|CYP
CZ|Czechia|CZE|Czech Republic
DE|Germany|DEU|Deutschland
DJ|Djibouti|DJI
DK|Denmark|DNK|Danmark
DM|Dominica|DMA
DO|Dominican Republic|DOM
DZ|Algeria|DZA
EC|Ecuador|ECU
EE|Estonia|EST|Eesti
EG|Egypt|EGY
EH|Western Sahara|ESH
ER|Eritrea|ERI
ES|Spain|ESP|España|Espana
ET|Ethiopia|ETH
FI|Finland|FIN|Suomi
FJ|Fiji|FJI
FK|Falkland Islands|FLK
FM|Micronesia|FSM
FO|Faroe Islands|FRO
FR|France|FRA
GA|Gabon|GAB
GB|United Kingdom|GBR|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland
GD|Grenada|GRD
GE|Georgia (country)|GEO|Sakartvelo
GF|French Guiana|GUF
GG|Guernsey|GGY
GH|Ghana|GHA
GI|Gibraltar|GIB
GL|Greenland|GRL
GM|Gambia|GMB|The Gambia
GN|Guinea|GIN
GP|Guadeloupe|GLP
GQ|Equatorial Guinea|GNQ
GR|Greece|GRC|Hellas
GT|Guatemala|GTM
GU|Guam|GUM
GW|Guinea-Bissau|GNB
GY|Guyana|GUY
HK|Hong Kong|HKG
HN|Honduras|HND
HR|Croatia|HRV|Hrvatska
HT|Haiti|HTI
HU|Hungary|HUN|Magyarország
ID|Indonesia|IDN
IE|Ireland|IRL|Éire|Republic of Ireland
IL|Israel|ISR
IM|Isle of Man|IMN
IN|India|IND|Bharat
IO|British Indian Ocean Territory|IOT
IQ|Iraq|IRQ
IR|Iran|IRN
IS|Iceland|ISL|Ísland
IT|Italy|ITA|Italia
JE|Jersey|JEY
JM|Jamaica|JAM
JO|Jordan|JOR
JP|Japan|JPN|Nippon
KE|Kenya|KEN
KG|Kyrgyzstan|KGZ
KH|Cambodia|KHM
KI|Kiribati|KIR
KM|Comoros|COM
KN|Saint Kitts and Nevis|KNA
KP|North Korea|PRK
KR|South Korea|KOR|Korea|Republic of Korea
KW|Kuwait|KWT
KY|Cayman Islands|CYM
KZ|Kazakhstan|KAZ
LA|Laos|LAO
LB|Lebanon|LBN
LC|Saint Lucia|LCA
LI|Liechtenstein|LIE
LK|Sri Lanka|LKA
LR|Liberia|LBR
LS|Lesotho|LSO
LT|Lithuania|LTU|Lietuva
LU|Luxembourg|LUX
LV|Latvia|LVA|Latvija
LY|Libya|LBY
MA|Morocco|MAR
MC|Monaco|MCO
MD|Moldova|MDA
ME|Montenegro|MNE
MF|Saint Martin|MAF
MG|Madagascar|MDG
MH|Marshall Islands|MHL
MK|North Macedonia|MKD|Macedonia
ML|Mali|MLI
MM|Myanmar|MMR|Burma
MN|Mongolia|MNG
MO|Macao|MAC|Macau
MP|Northern Mariana Islands|MNP
MQ|Martinique|MTQ
MR|Mauritania|MRT
MS|Montserrat|MSR
MT|Malta|MLT
MU|Mauritius|MUS
MV|Maldives|MDV
MW|Malawi|MWI
MX|Mexico|MEX|México
MY|Malaysia|MYS
MZ|Mozambique|MOZ
NA|Namibia|NAM
NC|New Caledonia|NCL
NE|Niger|NER
NF|Norfolk Island|NFK
NG|Nigeria|NGA
NI|Nicaragua|NIC
NL|Netherlands|NLD|The Netherlands|Holland|Nederland
NO|Norway|NOR|Norge
NP|Nepal|NPL
NR|Nauru|NRU
NU|Niue|NIU
NZ|New Zealand|NZL|Aotearoa
OM|Oman|OMN
PA|Panama|PAN|Panamá
PE|Peru|PER|Perú
PF|French Polynesia|PYF
PG|Papua New Guinea|PNG
PH|Philippines|PHL
PK|Pakistan|PAK
PL|Poland|POL|Polska
PM|Saint Pierre and Miquelon|SPM
PR|Puerto Rico|PRI
PS|Palestine|PSE
PT|Portugal|PRT
PW|Palau|PLW
PY|Paraguay|PRY
QA|Qatar|QAT
RE|Réunion|REU|Reunion
RO|Romania|ROU|România
RS|Serbia|SRB|Srbija
RU|Russia|RUS|Russian Federation
RW|Rwanda|RWA
SA|Saudi Arabia|SAU|KSA
SB|Solomon Islands|SLB
SC|Seychelles|SYC
SD|Sudan|SDN
SE|Sweden|SWE|Sverige
SG|Singapore|SGP
SH|Saint Helena|SHN
SI|Slovenia|SVN|Slovenija
SK|Slovakia|SVK|Slovak Republic
SL|Sierra Leone|SLE
SM|San Marino|SMR
SN|Senegal|SEN
SO|Somalia|SOM
SR|Suriname|SUR
SS|South Sudan|SSD
ST|São Tomé and Príncipe|STP|Sao Tome and Principe
SV|El Salvador|SLV
SX|Sint Maarten|SXM
SY|Syria|SYR
SZ|Eswatini|SWZ|Swaziland
TC|Turks and Caicos Islands|TCA
TD|Chad|TCD
TG|Togo|TGO
TH|Thailand|THA
TJ|Tajikistan|TJK
TL|Timor-Leste|TLS|East Timor
TM|Turkmenistan|TKM
TN|Tunisia|TUN
TO|Tonga|TON
TR|Türkiye|TUR|Turkey|Turkiye
TT|Trinidad and Tobago|TTO
TV|Tuvalu|TUV
TW|Taiwan|TWN
TZ|Tanzania|TZA
UA|Ukraine|UKR
UG|Uganda|UGA
US|United States|USA|U.S.|U.S.A.|US|United States of America|America
UY|Uruguay|URY
UZ|Uzbekistan|UZB
VA|Vatican City|VAT|Holy See
VC|Saint Vincent and the Grenadines|VCT
VE|Venezuela|VEN
VG|British Virgin Islands|VGB
VI|U.S. Virgin Islands|VIR
VN|Vietnam|VNM|Viet Nam
VU|Vanuatu|VUT
WF|Wallis and Futuna|WLF
WS|Samoa|WSM
XK|Kosovo|XKX
YE|Yemen|YEM
YT|Mayotte|MYT
ZA|South Africa|ZAF
ZM|Zambia|ZMB
ZW|Zimbabwe|ZWE";

/// Canadian provinces and territories: codes that are not also US states, and names.
const CA_PROVINCES: &str = "ON Ontario BC British_Columbia QC Quebec Québec AB Alberta \
MB Manitoba SK Saskatchewan NS Nova_Scotia NB New_Brunswick NL Newfoundland PE \
Prince_Edward_Island YT Yukon NT Northwest_Territories NU Nunavut";

/// Large job-market cities (and common shorthands) → country.
const CITIES: &str = "\
US|New York City|NYC|NY|San Francisco|SF|SF Bay Area|Bay Area|Silicon Valley|Los Angeles|LA|Seattle|Boston|Chicago|Austin|Denver|Atlanta|Miami|Washington DC|Washington D.C.|D.C.|Palo Alto|Mountain View|Menlo Park|Sunnyvale|San Jose|Oakland|Berkeley|Cambridge MA|Philadelphia|Pittsburgh|Portland|San Diego|Salt Lake City|Boulder|Brooklyn|Manhattan|Redwood City|Santa Monica|Dallas|Houston|Raleigh|Nashville|Minneapolis|Detroit|Phoenix
GB|London|Manchester|Edinburgh|Glasgow|Bristol|Oxford|Birmingham|Leeds|Belfast
DE|Berlin|Munich|München|Hamburg|Frankfurt|Cologne|Köln|Stuttgart|Düsseldorf
FR|Paris|Lyon|Toulouse|Marseille|Bordeaux|Nantes
NL|Amsterdam|Rotterdam|Utrecht|The Hague|Eindhoven
CA|Toronto|Vancouver|Montreal|Montréal|Ottawa|Calgary|Waterloo|Edmonton
IE|Dublin|Cork
ES|Madrid|Barcelona|Valencia
PT|Lisbon|Lisboa|Porto
IT|Milan|Milano|Rome|Roma|Turin
CH|Zurich|Zürich|Geneva|Genève|Lausanne|Basel
AT|Vienna|Wien
SE|Stockholm|Gothenburg|Malmö
DK|Copenhagen|København|Aarhus
NO|Oslo
FI|Helsinki
PL|Warsaw|Krakow|Kraków|Wroclaw|Wrocław
CZ|Prague|Brno
EE|Tallinn
IL|Tel Aviv|Jerusalem|Haifa
IN|Bangalore|Bengaluru|Mumbai|Delhi|New Delhi|Hyderabad|Pune|Chennai|Gurgaon|Gurugram|Noida
SG|Singapore
JP|Tokyo|Osaka|Kyoto
KR|Seoul
CN|Beijing|Shanghai|Shenzhen|Hangzhou
HK|Hong Kong
TW|Taipei
AU|Sydney|Melbourne|Brisbane|Perth|Adelaide|Canberra
NZ|Auckland|Wellington
BR|São Paulo|Sao Paulo|Rio de Janeiro
AR|Buenos Aires
MX|Mexico City|Ciudad de México|Guadalajara|Monterrey
CO|Bogotá|Bogota|Medellín|Medellin
ZA|Cape Town|Johannesburg
NG|Lagos
KE|Nairobi
AE|Dubai|Abu Dhabi
BE|Brussels|Bruxelles|Antwerp|Ghent
HU|Budapest
RO|Bucharest
GR|Athens
UA|Kyiv|Kiev|Lviv";

struct Tables {
    iso: HashMap<String, &'static str>,
    names: HashMap<String, &'static str>,
    us_codes: HashMap<String, ()>,
    places: HashMap<String, &'static str>,
    ca_codes: HashMap<String, ()>,
}

fn key(s: &str) -> String {
    s.trim()
        .trim_matches(|c: char| c == '.' || c == '"' || c == '\'')
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut iso = HashMap::new();
        let mut names = HashMap::new();
        for line in COUNTRIES.lines() {
            let mut parts = line.split('|');
            let Some(code) = parts.next() else { continue };
            iso.insert(code.to_string(), code);
            for p in parts {
                names.insert(key(p), code);
            }
        }
        // "Georgia" alone is far more often the US state in postings files; the country needs
        // "Georgia (country)" or its code.
        names.remove("georgia");
        let mut us_codes = HashMap::new();
        let mut places: HashMap<String, &'static str> = HashMap::new();
        for item in jobshift_core::places::US_STATES.split_whitespace() {
            if let Some((code, name)) = item.split_once('|') {
                us_codes.insert(code.to_string(), ());
                places.insert(key(&name.replace('_', " ")), "US");
            }
        }
        let mut ca_codes = HashMap::new();
        for item in CA_PROVINCES.split_whitespace() {
            if item.len() == 2 && item.bytes().all(|b| b.is_ascii_uppercase()) {
                ca_codes.insert(item.to_string(), ());
            } else {
                places.insert(key(&item.replace('_', " ")), "CA");
            }
        }
        for line in CITIES.lines() {
            let mut parts = line.split('|');
            let Some(code) = parts.next() else { continue };
            let code: &'static str = iso.get(code).copied().unwrap_or("US");
            for p in parts {
                places.entry(key(p)).or_insert(code);
            }
        }
        Tables {
            iso,
            names,
            us_codes,
            places,
            ca_codes,
        }
    })
}

/// Country code from a value of a country column.
pub fn from_country_field(raw: &str) -> Option<String> {
    let t = tables();
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let up = s.to_ascii_uppercase();
    if up.len() == 2 {
        if let Some(c) = t.iso.get(&up) {
            return Some((*c).to_string());
        }
        if up == "UK" {
            return Some("GB".into());
        }
    }
    if let Some(c) = t.names.get(&key(s)) {
        return Some((*c).to_string());
    }
    // A country column sometimes holds a whole location ("Berlin, Germany").
    from_location(s)
}

/// Country code derived from free location text, when it can be.
pub fn from_location(raw: &str) -> Option<String> {
    let t = tables();
    let s = raw.trim();
    if s.is_empty() || s.len() > 300 {
        return None;
    }
    if let Some(c) = t.names.get(&key(s)).or_else(|| t.places.get(&key(s))) {
        return Some((*c).to_string());
    }
    let spaced = s
        .replace(" - ", ",")
        .replace(" – ", ",")
        .replace(" — ", ",");
    let segments: Vec<&str> = spaced
        .split([',', '|', '/', ';', '(', ')', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    for seg in segments.iter().rev() {
        if seg.len() == 2 && seg.bytes().all(|b| b.is_ascii_uppercase()) {
            if t.us_codes.contains_key(*seg) {
                return Some("US".into());
            }
            if t.ca_codes.contains_key(*seg) {
                return Some("CA".into());
            }
            if *seg == "UK" {
                return Some("GB".into());
            }
            if let Some(c) = t.iso.get(*seg) {
                return Some((*c).to_string());
            }
            continue;
        }
        let k = key(seg);
        if let Some(c) = t.names.get(&k).or_else(|| t.places.get(&k)) {
            return Some((*c).to_string());
        }
        // "Berlin Germany", "Remote (US)": look at the last word too.
        if let Some(last) = k.rsplit(' ').next() {
            if last != k {
                if let Some(c) = t.names.get(last) {
                    return Some((*c).to_string());
                }
            }
        }
    }
    None
}

/// Is `code` a known ISO 3166-1 alpha-2 code?
pub fn is_iso_code(code: &str) -> bool {
    tables().iso.contains_key(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_columns() {
        assert_eq!(from_country_field("US").as_deref(), Some("US"));
        assert_eq!(from_country_field("usa").as_deref(), Some("US"));
        assert_eq!(from_country_field("United Kingdom").as_deref(), Some("GB"));
        assert_eq!(from_country_field("UK").as_deref(), Some("GB"));
        assert_eq!(from_country_field("Deutschland").as_deref(), Some("DE"));
        assert_eq!(from_country_field("CA").as_deref(), Some("CA"));
        assert_eq!(from_country_field("DEU").as_deref(), Some("DE"));
        assert_eq!(from_country_field("Narnia"), None);
    }

    #[test]
    fn location_text() {
        assert_eq!(from_location("Austin, TX").as_deref(), Some("US"));
        assert_eq!(
            from_location("Grand Rapids, Michigan").as_deref(),
            Some("US")
        );
        assert_eq!(from_location("Berlin, Germany").as_deref(), Some("DE"));
        assert_eq!(from_location("London").as_deref(), Some("GB"));
        assert_eq!(from_location("Toronto, ON").as_deref(), Some("CA"));
        assert_eq!(from_location("Remote (US)").as_deref(), Some("US"));
        assert_eq!(from_location("Remote"), None);
        assert_eq!(
            from_location("Paris, France | Remote").as_deref(),
            Some("FR")
        );
        assert_eq!(from_location("Bangalore, India").as_deref(), Some("IN"));
        assert!(is_iso_code("DE"));
    }
}
