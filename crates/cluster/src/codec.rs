//! The plan codec a jobshift cluster speaks: Ballista's logical codec, plus in-memory tables
//! ([`MemTable`]: the report's `titles` and `title_map` lookups) carried inside the plan as
//! Arrow IPC, so the scheduler can plan them and the executors can scan them. Registered on the
//! client, the scheduler and every executor (see [`crate::node`] and [`crate::client`]).

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use std::sync::Arc;

/// Marks a table provider encoded by this codec (anything else goes to Ballista's codec).
const MEM_TABLE_TAG: &[u8] = b"jobshift-memtable-v1\n";

/// Ballista's logical codec with in-memory tables added.
#[derive(Debug, Default)]
pub struct JobshiftLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

/// An in-memory table's partitions, each as a length-prefixed Arrow IPC stream (partitions
/// are kept: they are what spreads a table's rows over tasks).
fn encode_partitions(
    schema: &SchemaRef,
    partitions: &[Vec<RecordBatch>],
    buf: &mut Vec<u8>,
) -> Result<()> {
    buf.extend_from_slice(MEM_TABLE_TAG);
    buf.extend_from_slice(&(partitions.len() as u64).to_le_bytes());
    for batches in partitions {
        let mut ipc = Vec::new();
        let mut writer = StreamWriter::try_new(&mut ipc, schema)?;
        for b in batches {
            writer.write(b)?;
        }
        writer.finish()?;
        drop(writer);
        buf.extend_from_slice(&(ipc.len() as u64).to_le_bytes());
        buf.extend_from_slice(&ipc);
    }
    Ok(())
}

fn decode_partitions(mut buf: &[u8]) -> Result<Vec<Vec<RecordBatch>>> {
    let truncated = || DataFusionError::Plan("truncated in-memory table in the plan".into());
    let take_u64 = |buf: &mut &[u8]| -> Result<u64> {
        let (head, rest) = buf.split_first_chunk::<8>().ok_or_else(truncated)?;
        *buf = rest;
        Ok(u64::from_le_bytes(*head))
    };
    let n = take_u64(&mut buf)?;
    let mut partitions = Vec::new();
    for _ in 0..n {
        let len = usize::try_from(take_u64(&mut buf)?).map_err(|_| truncated())?;
        if buf.len() < len {
            return Err(truncated());
        }
        let (ipc, rest) = buf.split_at(len);
        buf = rest;
        let reader = StreamReader::try_new(ipc, None)?;
        partitions.push(reader.collect::<std::result::Result<Vec<_>, _>>()?);
    }
    Ok(partitions)
}

impl LogicalExtensionCodec for JobshiftLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.strip_prefix(MEM_TABLE_TAG) {
            Some(ipc) => {
                let partitions = decode_partitions(ipc).map_err(|e| {
                    DataFusionError::Plan(format!("in-memory table {table_ref}: {e}"))
                })?;
                Ok(Arc::new(MemTable::try_new(schema, partitions)?))
            }
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(mem) = node.downcast_ref::<MemTable>() else {
            return self
                .ballista
                .try_encode_table_provider(table_ref, node, buf);
        };
        // the lookup tables jobshift registers are small (a row per title); they travel in
        // the plan like literals
        let mut partitions = Vec::new();
        for partition in &mem.batches {
            let part = partition.try_read().map_err(|_| {
                DataFusionError::Internal(format!(
                    "in-memory table {table_ref} is being written while it is planned"
                ))
            })?;
            partitions.push(part.clone());
        }
        encode_partitions(&mem.schema(), &partitions, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    #[test]
    fn mem_tables_round_trip_through_the_codec() {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
        let col: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("c")]));
        let batch = RecordBatch::try_new(schema.clone(), vec![col]).unwrap();
        let parts = vec![vec![batch.clone()], vec![], vec![batch.slice(1, 2)]];
        let table = Arc::new(MemTable::try_new(schema.clone(), parts.clone()).unwrap());
        let codec = JobshiftLogicalCodec::default();
        let mut buf = Vec::new();
        codec
            .try_encode_table_provider(&"t".into(), table, &mut buf)
            .unwrap();
        let ctx = SessionContext::new();
        let back = codec
            .try_decode_table_provider(&buf, &"t".into(), schema, &ctx.task_ctx())
            .unwrap();
        let mem = back.downcast_ref::<MemTable>().unwrap();
        let got: Vec<Vec<RecordBatch>> = mem
            .batches
            .iter()
            .map(|p| p.try_read().unwrap().clone())
            .collect();
        assert_eq!(got, parts);
        // anything else is Ballista's
        assert!(codec
            .try_decode_table_provider(b"x", &"t".into(), got[0][0].schema(), &ctx.task_ctx())
            .is_err());
    }
}
