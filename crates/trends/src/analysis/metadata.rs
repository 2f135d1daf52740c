//! Step 2 of the analysis: the name, family, level and tier of every title id in the data —
//! from the taxonomy, else from what classify wrote for ids the taxonomy lacks — and the
//! `title_map` table the tier and family plans join.

use super::Meta;
use crate::engine::{self, query, sql_str, strings, Catalog};
use crate::TrendsError;
use datafusion::common::DFSchema;
use datafusion::prelude::SessionContext;
use jobshift_core::schema;
use std::collections::BTreeMap;
use std::sync::Arc;

/// title_id → (tier, family), as the tier and family plans group them.
pub(super) type TitleMap = Vec<(String, Option<String>, Option<String>)>;

/// Metadata of the title ids in `cell`; ids the taxonomy lacks get a note.
pub(super) async fn title_metadata(
    ctx: &SessionContext,
    catalog: &Catalog,
    table_schema: &DFSchema,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Meta>, TrendsError> {
    let mut meta: BTreeMap<String, Meta> = BTreeMap::new();
    let observed: Vec<String> = query(ctx, "SELECT DISTINCT title_id FROM cell ORDER BY title_id")
        .await?
        .iter()
        .map(|b| strings(b, "title_id"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let by_id: BTreeMap<&str, &engine::TitleRow> =
        catalog.titles.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut unknown = Vec::new();
    for id in &observed {
        if let Some(t) = by_id.get(id.as_str()) {
            meta.insert(
                id.clone(),
                Meta {
                    name: t.name.clone(),
                    family: Some(t.family.clone()),
                    family_name: Some(t.family_name.clone()),
                    level: Some(t.level.clone()),
                    tier: Some(t.tier.clone()),
                },
            );
        } else if id != schema::UNCLASSIFIED {
            unknown.push(id.clone());
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|s| sql_str(s)).collect();
        let has = |c: &str| table_schema.field_with_unqualified_name(c).is_ok();
        let col = |c: &str| {
            if has(c) {
                format!("MAX({c})")
            } else {
                "CAST(NULL AS VARCHAR)".to_string()
            }
        };
        let q = format!(
            "SELECT title_id, {} AS name, {} AS family, {} AS level, {} AS tier FROM postings WHERE title_id IN ({}) GROUP BY title_id",
            col(schema::TITLE_NAME),
            col(schema::FAMILY),
            col(schema::LEVEL),
            col(schema::TIER),
            list.join(", ")
        );
        for b in query(ctx, &q).await? {
            let (id, name, fam, lev, tier) = (
                strings(&b, "title_id")?,
                strings(&b, "name")?,
                strings(&b, "family")?,
                strings(&b, "level")?,
                strings(&b, "tier")?,
            );
            for i in 0..b.num_rows() {
                let Some(id) = id[i].clone() else { continue };
                meta.insert(
                    id.clone(),
                    Meta {
                        name: name[i].clone().unwrap_or_else(|| id.clone()),
                        family_name: fam[i].as_deref().map(|f| catalog.family_name(f)),
                        family: fam[i].clone(),
                        level: lev[i].clone(),
                        tier: tier[i].clone(),
                    },
                );
            }
        }
        notes.push(format!(
            "{} title id(s) in the data are not in taxonomy {} ({}); they are reported with the names classify wrote",
            unknown.len(),
            catalog.version,
            unknown.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(meta)
}

/// Register `title_map` for the tier and family plans and return it.
pub(super) fn register_title_map(
    ctx: &SessionContext,
    meta: &BTreeMap<String, Meta>,
) -> Result<TitleMap, TrendsError> {
    let title_map: Vec<(String, Option<String>, Option<String>)> = meta
        .iter()
        .map(|(id, m)| (id.clone(), m.tier.clone(), m.family.clone()))
        .collect();
    let map_table = engine::string_table(&[
        (
            "title_id",
            title_map.iter().map(|t| Some(t.0.clone())).collect(),
        ),
        ("tier", title_map.iter().map(|t| t.1.clone()).collect()),
        ("family", title_map.iter().map(|t| t.2.clone()).collect()),
    ])?;
    ctx.register_table("title_map", Arc::new(map_table))?;

    Ok(title_map)
}
