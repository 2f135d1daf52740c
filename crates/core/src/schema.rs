//! The Arrow schema of the canonical postings dataset, and of the columns classification adds.
//!
//! `DATASET_DIR/postings/` holds [`postings_schema`]; `DATASET_DIR/classified/` holds
//! [`classified_schema`] (every postings column, then the classification columns). Trends, SQL
//! and labelling read `classified/`; ingest and classify write them. Column names live here only.

use arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

// canonical posting columns (issue #2)
pub const POSTING_ID: &str = "posting_id";
pub const SOURCE: &str = "source";
pub const COMPANY: &str = "company";
pub const TITLE: &str = "title";
pub const DESCRIPTION: &str = "description";
pub const LOCATION: &str = "location";
pub const COUNTRY: &str = "country";
pub const POSTED_DATE: &str = "posted_date";
/// "day" or "month": a month-only input date ("2024-03") is stored as the first of the month, flagged.
pub const DATE_PRECISION: &str = "date_precision";
pub const FIRST_SEEN: &str = "first_seen";
pub const LAST_SEEN: &str = "last_seen";
pub const URL: &str = "url";
/// JSON object holding every input column that is not a canonical field.
pub const EXTRA: &str = "extra";
/// How many later copies were folded into this posting by de-duplication.
pub const DUPLICATES: &str = "duplicates";
/// Provenance: input file name and 1-based record number (line for text formats).
pub const INPUT_FILE: &str = "input_file";
pub const INPUT_RECORD: &str = "input_record";

// classification columns (issue #5). The raw posting title stays in `title`; the standardized
// title's display name is `title_name`.
pub const TITLE_ID: &str = "title_id";
pub const TITLE_NAME: &str = "title_name";
pub const FAMILY: &str = "family";
pub const LEVEL: &str = "level";
pub const TIER: &str = "tier";
pub const SENIORITY: &str = "seniority";
pub const SOC: &str = "soc";
pub const CONFIDENCE: &str = "confidence";
/// Which cascade step decided: "alias", "title_embedding", "description", or "unclassified".
pub const METHOD: &str = "method";
/// Why an unclassified posting abstained: "empty_title", "not_a_title" (the title field names
/// no role and no description named one), "unsupported_script" (the title is written mostly in
/// a script the English-only encoder cannot read, and no description named the role) or
/// "low_confidence"; null when classified (and in
/// generated corpora, whose classification is simulated).
pub const REASON: &str = "reason";
/// Every title id a posting names when it names several ("Android Engineers, iOS Engineers", or
/// several roles in its description), `title_id` first; an empty list otherwise.
pub const ROLES: &str = "roles";

/// `title_id` of postings the classifier abstained on. They are counted, never dropped.
pub const UNCLASSIFIED: &str = "unclassified";

fn posting_fields() -> Vec<Field> {
    vec![
        Field::new(POSTING_ID, DataType::Utf8, false),
        Field::new(SOURCE, DataType::Utf8, false),
        Field::new(COMPANY, DataType::Utf8, true),
        Field::new(TITLE, DataType::Utf8, false),
        Field::new(DESCRIPTION, DataType::Utf8, true),
        Field::new(LOCATION, DataType::Utf8, true),
        Field::new(COUNTRY, DataType::Utf8, true),
        Field::new(POSTED_DATE, DataType::Date32, false),
        Field::new(DATE_PRECISION, DataType::Utf8, false),
        Field::new(FIRST_SEEN, DataType::Date32, false),
        Field::new(LAST_SEEN, DataType::Date32, false),
        Field::new(URL, DataType::Utf8, true),
        Field::new(EXTRA, DataType::Utf8, true),
        Field::new(DUPLICATES, DataType::UInt32, false),
        Field::new(INPUT_FILE, DataType::Utf8, false),
        Field::new(INPUT_RECORD, DataType::UInt64, false),
    ]
}

fn classification_fields() -> Vec<Field> {
    vec![
        Field::new(TITLE_ID, DataType::Utf8, false),
        Field::new(TITLE_NAME, DataType::Utf8, true),
        Field::new(FAMILY, DataType::Utf8, true),
        Field::new(LEVEL, DataType::Utf8, true),
        Field::new(TIER, DataType::Utf8, true),
        Field::new(SENIORITY, DataType::Utf8, true),
        Field::new(SOC, DataType::Utf8, true),
        Field::new(CONFIDENCE, DataType::Float32, false),
        Field::new(METHOD, DataType::Utf8, false),
        Field::new(REASON, DataType::Utf8, true),
        Field::new(ROLES, roles_data_type(), false),
    ]
}

/// The type of [`ROLES`]: a list of title ids (Arrow's default list item field, as
/// `ListBuilder` makes it).
pub fn roles_data_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// The [`ROLES`] column of one row per item of `rows`, each the title ids given.
pub fn roles_array<'a, R, T>(rows: R) -> ArrayRef
where
    R: IntoIterator<Item = &'a [T]>,
    T: AsRef<str> + 'a,
{
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in rows {
        for id in row {
            b.values().append_value(id.as_ref());
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Schema of `DATASET_DIR/postings/*.parquet`.
pub fn postings_schema() -> SchemaRef {
    Arc::new(Schema::new(posting_fields()))
}

/// Schema of `DATASET_DIR/classified/*.parquet`: postings columns, then classification columns.
pub fn classified_schema() -> SchemaRef {
    let mut f = posting_fields();
    f.extend(classification_fields());
    Arc::new(Schema::new(f))
}

/// Only the classification columns (for sidecar writers).
pub fn classification_schema() -> SchemaRef {
    Arc::new(Schema::new(classification_fields()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classified_extends_postings() {
        let p = postings_schema();
        let c = classified_schema();
        assert_eq!(&c.fields()[..p.fields().len()], &p.fields()[..]);
        assert!(c.field_with_name(TITLE_ID).is_ok());
        assert!(c.field_with_name(TITLE).is_ok());
    }

    #[test]
    fn roles_arrays_have_the_schema_type_and_one_list_per_row() {
        use arrow::array::Array;
        let a = roles_array([&["a".to_string(), "b".to_string()][..], &[][..]]);
        assert_eq!(a.data_type(), &roles_data_type());
        let l = a
            .as_any()
            .downcast_ref::<arrow::array::ListArray>()
            .expect("a list array");
        assert_eq!(l.len(), 2);
        assert_eq!(l.value_length(0), 2);
        assert_eq!(l.value_length(1), 0);
        assert!(!l.is_null(1));
        let first = l.value(0);
        let ids = first
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .expect("strings");
        assert_eq!((ids.value(0), ids.value(1)), ("a", "b"));
    }
}
