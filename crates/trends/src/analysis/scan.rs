//! Step 1 of the analysis: the one scan of the postings (distinct postings per company × title ×
//! window year, the `cell` table every later plan reads), restricted to the company panel with
//! `--panel`.

use super::PanelInfo;
use crate::aggregate::{cell_sql, panel_sql};
use crate::engine::{self, query, Materialize, Spilled};
use crate::options::TrendOptions;
use crate::window::Window;
use crate::TrendsError;
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;

/// Register `cell` (the panel's cells with `--panel`; then `cell_all` holds every company's).
/// Returns the panel's figures and the on-disk tables, which must outlive the analysis.
pub(super) async fn register_cell(
    ctx: &SessionContext,
    win: &Window,
    opts: &TrendOptions,
    keep: Materialize,
    queries: &mut Vec<(String, String)>,
) -> Result<(Option<PanelInfo>, Vec<Spilled>), TrendsError> {
    let years = &win.years;
    let mut spilled = Vec::new();
    let cell = cell_sql(win, opts.assume_unique);
    let (cell_df, f) = engine::materialize(ctx, ctx.sql(&cell).await?, "cell", keep).await?;
    spilled.extend(f);
    queries.push(("cell".to_string(), cell.clone()));
    let panel = if opts.panel {
        ctx.register_table("cell_all", cell_df.into_view())?;
        let p = panel_sql(years.len());
        let (panel_df, f) =
            engine::materialize(ctx, ctx.sql(&p).await?, "cell-panel", keep).await?;
        spilled.extend(f);
        ctx.register_table("cell", panel_df.into_view())?;
        queries.push((
            "cell (panel)".to_string(),
            format!("-- cell_all = the cell query above\n{p}"),
        ));
        let totals = |t: &'static str| {
            format!("SELECT yr, SUM(n) AS n, COUNT(DISTINCT company) AS c FROM {t} GROUP BY yr")
        };
        let comp = |t: &'static str| format!("SELECT COUNT(DISTINCT company) AS c FROM {t}");
        let mut info = PanelInfo {
            companies: 0,
            companies_all: 0,
            postings_all: BTreeMap::new(),
            postings_panel: BTreeMap::new(),
        };
        for (table, map) in [
            ("cell_all", &mut info.postings_all),
            ("cell", &mut info.postings_panel),
        ] {
            for b in query(ctx, &totals(table)).await? {
                let (y, n) = (engine::integers(&b, "yr")?, engine::integers(&b, "n")?);
                for i in 0..b.num_rows() {
                    map.insert(y[i] as i32, n[i] as u64);
                }
            }
        }
        for (table, slot) in [
            ("cell_all", &mut info.companies_all),
            ("cell", &mut info.companies),
        ] {
            for b in query(ctx, &comp(table)).await? {
                *slot = engine::integers(&b, "c")?.first().copied().unwrap_or(0) as u64;
            }
        }
        if info.companies == 0 {
            return Err(TrendsError::Options(format!(
                "--panel: no company posted in all {} windows; drop --panel or compare fewer years (--years 2)",
                years.len()
            )));
        }
        Some(info)
    } else {
        ctx.register_table("cell", cell_df.into_view())?;
        None
    };

    Ok((panel, spilled))
}
