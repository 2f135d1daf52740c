//! `jobshift sql`: any read-only query over a dataset (tables `postings` and `titles`), printed
//! as a table or written to CSV / Parquet. DDL, DML, COPY and SET are refused
//! ([`crate::engine::query_read_only`]).

use crate::engine::{Catalog, PostingsSource};
use crate::TrendsError;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use std::path::Path;
use std::sync::Arc;

/// The result of a query.
pub struct SqlOutput {
    pub batches: Vec<RecordBatch>,
    pub source: PostingsSource,
}

impl SqlOutput {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
    /// The result as a text table.
    pub fn to_table(&self) -> Result<String, TrendsError> {
        Ok(pretty_format_batches(&self.batches)?.to_string())
    }
    /// Write CSV (with header) atomically.
    pub fn write_csv(&self, path: &Path) -> Result<(), TrendsError> {
        jobshift_core::atomic::with_writer(path, |w| {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(w);
            for b in &self.batches {
                let b = nested_as_text(b).map_err(std::io::Error::other)?;
                writer.write(&b).map_err(std::io::Error::other)?;
            }
            Ok(())
        })
        .map_err(|e| TrendsError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }
    /// Write Parquet (zstd) atomically.
    pub fn write_parquet(&self, path: &Path) -> Result<(), TrendsError> {
        use datafusion::parquet::arrow::ArrowWriter;
        use datafusion::parquet::basic::{Compression, ZstdLevel};
        use datafusion::parquet::file::properties::WriterProperties;
        let Some(first) = self.batches.first() else {
            return Err(TrendsError::Options(
                "the query returned no batches; nothing to write".into(),
            ));
        };
        let schema = first.schema();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        jobshift_core::atomic::with_writer(path, |w| {
            let mut writer = ArrowWriter::try_new(w, schema.clone(), Some(props))
                .map_err(std::io::Error::other)?;
            for b in &self.batches {
                writer.write(b).map_err(std::io::Error::other)?;
            }
            writer.close().map_err(std::io::Error::other)?;
            Ok(())
        })
        .map_err(|e| TrendsError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }
}

/// `batch` with every nested column (a list such as `roles`, a struct, a map) replaced by its
/// text as the printed table shows it (`[a, b]`): CSV has no nested values, and Arrow's CSV
/// writer refuses them.
fn nested_as_text(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| f.data_type().is_nested())
    {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if !f.data_type().is_nested() {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
            continue;
        }
        let fmt = ArrayFormatter::try_new(c.as_ref(), &options)?;
        let text: StringArray = (0..c.len())
            .map(|i| (!c.is_null(i)).then(|| fmt.value(i).to_string()))
            .collect();
        fields.push(Field::new(f.name(), DataType::Utf8, true));
        columns.push(Arc::new(text) as ArrayRef);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Run a query over a dataset.
pub async fn run_sql_async(
    dataset_dir: &Path,
    sql: &str,
    taxonomy_dir: Option<&Path>,
) -> Result<SqlOutput, TrendsError> {
    let ctx = crate::engine::new_session(None)?;
    run_sql_in_session(&ctx, dataset_dir, sql, taxonomy_dir).await
}

/// Run a query over a dataset in a session the caller built (for example one whose plans run
/// on a Ballista cluster); the dataset's tables are registered in it first.
pub async fn run_sql_in_session(
    ctx: &datafusion::prelude::SessionContext,
    dataset_dir: &Path,
    sql: &str,
    taxonomy_dir: Option<&Path>,
) -> Result<SqlOutput, TrendsError> {
    let catalog = Catalog::load(taxonomy_dir)?;
    // never read a half-committed (or half-published) dataset, and nothing but reads
    let reading = crate::store::Reading::begin(dataset_dir).await?;
    let (source, _) = crate::engine::register_dataset(ctx, dataset_dir, &catalog).await?;
    let batches = crate::engine::query_read_only(ctx, sql).await?;
    reading.verify().await?;
    Ok(SqlOutput { batches, source })
}

/// Blocking [`run_sql_async`].
pub fn run_sql(
    dataset_dir: &Path,
    sql: &str,
    taxonomy_dir: Option<&Path>,
) -> Result<SqlOutput, TrendsError> {
    crate::runtime()?.block_on(run_sql_async(dataset_dir, sql, taxonomy_dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::csv::WriterBuilder;

    fn csv(batch: &RecordBatch) -> Result<String, ArrowError> {
        let mut buf = Vec::new();
        WriterBuilder::new()
            .with_header(true)
            .build(&mut buf)
            .write(batch)?;
        Ok(String::from_utf8(buf).expect("CSV is UTF-8"))
    }

    #[test]
    fn csv_writes_a_list_column_as_its_text() {
        let roles = jobshift_core::schema::roles_array([&["a", "b"][..], &[][..]]);
        let ids: ArrayRef = Arc::new(StringArray::from(vec!["x", "y"]));
        let batch = RecordBatch::try_from_iter([("id", ids), ("roles", roles)]).unwrap();
        // Arrow's CSV writer refuses the list as it is
        assert!(csv(&batch).is_err());
        let text = nested_as_text(&batch).unwrap();
        assert_eq!(csv(&text).unwrap(), "id,roles\nx,\"[a, b]\"\ny,[]\n");
        // a batch without nested columns is written as it was
        let flat = batch.project(&[0]).unwrap();
        assert_eq!(nested_as_text(&flat).unwrap(), flat);
    }
}
