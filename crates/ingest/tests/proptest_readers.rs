//! Property tests over the readers and the whole ingest: arbitrary bytes in any format never
//! panic, records are numbered 1, 2, 3..., and the accounting identity always holds.

mod common;
use common::*;
use jobshift_ingest::readers::{self, Limits, ReadItem};
use jobshift_ingest::Format;
use proptest::prelude::*;

fn drain(path: &std::path::Path, format: Format) -> (u64, u64) {
    let limits = Limits {
        max_field_bytes: 256,
        max_record_bytes: 512,
    };
    let mut r = match readers::open(path, format, limits) {
        Ok(r) => r,
        Err(_) => return (0, 0), // e.g. Parquet magic missing: an error, never a panic
    };
    let (mut good, mut bad, mut expect) = (0u64, 0u64, 1u64);
    for _ in 0..100_000 {
        match r.next_item() {
            Ok(Some(ReadItem::Record(x))) => {
                assert_eq!(x.number, expect);
                expect += 1;
                good += 1;
            }
            Ok(Some(ReadItem::Bad(x))) => {
                assert_eq!(x.number, expect);
                assert!(x.raw.len() <= 512 + 64, "raw not capped: {}", x.raw.len());
                expect += 1;
                bad += 1;
            }
            Ok(None) | Err(_) => return (good, bad),
        }
    }
    panic!("reader did not terminate");
}

/// Bytes biased toward the characters that matter to the formats.
fn nasty_bytes() -> impl Strategy<Value = Vec<u8>> {
    let interesting = prop_oneof![
        Just(b','),
        Just(b'"'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b'\t'),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b':'),
        Just(b'\\'),
        Just(0xEFu8),
        Just(0xBB),
        Just(0xBF),
        Just(0u8),
        b'a'..=b'z',
        any::<u8>(),
    ];
    proptest::collection::vec(interesting, 0..600)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic(bytes in nasty_bytes(), fmt in 0usize..5) {
        let dir = tempfile::tempdir().unwrap();
        let (name, format) = [("x.csv", Format::Csv), ("x.tsv", Format::Tsv), ("x.jsonl", Format::Jsonl),
            ("x.json", Format::Json), ("x.parquet", Format::Parquet)][fmt];
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        drain(&p, format);
    }

    #[test]
    fn json_prefixes_never_panic(cut in 0usize..400) {
        // every truncation of a valid JSON array / JSON Lines file
        let doc = r#"[{"title":"A \"quoted\" role","company":"X, Inc","date":"2024-01-01","tags":[1,{"a":"]"}]},{"title":"B","date":"2024-02-01"}]"#;
        let dir = tempfile::tempdir().unwrap();
        let cut = cut.min(doc.len());
        let p = dir.path().join("x.json");
        std::fs::write(&p, &doc.as_bytes()[..cut]).unwrap();
        drain(&p, Format::Json);
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, doc[1..cut.max(1)].replace("},{", "}\n{").as_bytes()).unwrap();
        drain(&p, Format::Jsonl);
    }
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{0,12}",
        "[a-z,\"\n ]{0,10}",
        Just("2024-03-05".to_string()),
        Just("31/02/2024".to_string()),
        Just("yesterday".to_string()),
        Just("2024-03".to_string()),
        "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ingest_accounting_always_holds(rows in proptest::collection::vec(proptest::collection::vec(field(), 0..6), 0..12)) {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("title,company,date,description\n");
        let mut jl = String::new();
        for r in &rows {
            csv.push_str(&r.iter().map(|f| if f.contains([',', '"', '\n']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() }).collect::<Vec<_>>().join(","));
            csv.push('\n');
            let keys = ["title", "company", "date", "description", "x", "y"];
            let obj: serde_json::Map<String, serde_json::Value> = r.iter().enumerate().map(|(i, f)| (keys[i].to_string(), serde_json::Value::String(f.clone()))).collect();
            jl.push_str(&serde_json::Value::Object(obj).to_string());
            jl.push('\n');
        }
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, csv).unwrap();
        std::fs::write(&b, jl).unwrap();
        let ds = dir.path().join("ds");
        let r = ingest_ok(&[a, b], &ds, &quiet());
        prop_assert_eq!(r.inputs[1].read, rows.len() as u64);
    }
}
