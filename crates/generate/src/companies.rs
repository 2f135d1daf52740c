//! The employers: a fixed universe of companies with heavy-tailed (Pareto) hiring volume, an
//! industry and home country each, and a window of months in which they are in the scrape
//! (some enter late, some leave early), so the panel of companies changes over time as in a real
//! scraped corpus. The universe is bounded (at most `max_companies`) whatever the posting count.

use crate::rng::{chance, pick, pick_weighted, rng_for, GenRng, Key};
use crate::vocab::{Country, COUNTRIES, INDUSTRIES, NAME_STEMS};
use rand::Rng;

#[derive(Debug, Clone)]
pub struct Company {
    pub id: u32,
    pub name: String,
    pub domain: String,
    pub industry: usize,
    pub country: usize,
    /// Relative hiring volume (Pareto, alpha 1.16: the "80/20" tail).
    pub size: f64,
    /// First month index (into the plan's months) in the scrape.
    pub enter: usize,
    /// Month index after the last month in the scrape.
    pub exit: usize,
    /// Posts in several countries (large employers).
    pub multinational: bool,
}

impl Company {
    pub fn active(&self, month_index: usize) -> bool {
        month_index >= self.enter && month_index < self.exit
    }
    pub fn country(&self) -> &'static Country {
        &COUNTRIES[self.country]
    }
}

/// The company universe plus, for the month being generated, per-industry samplers over the
/// companies active in that month.
pub struct Companies {
    pub list: Vec<Company>,
}

/// Per-month sampler: cumulative size weights of active companies per industry.
pub struct MonthCompanies {
    by_industry: Vec<Vec<(f64, u32)>>,
    all: Vec<(f64, u32)>,
}

fn slugify(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        }
    }
    out
}

impl Companies {
    /// Build `n` companies over `months` months.
    pub fn build(seed: u64, n: u32, months: usize) -> Self {
        let country_w: Vec<f64> = COUNTRIES.iter().map(|c| c.weight).collect();
        let mut list = Vec::with_capacity(n as usize);
        for id in 0..n {
            let mut r = rng_for(seed, &[Key::S("company"), Key::N(id as u64)]);
            let industry = r.random_range(0..INDUSTRIES.len());
            let country = pick_weighted(&mut r, &country_w);
            let u: f64 = r.random::<f64>().max(1e-9);
            let size = u.powf(-1.0 / 1.16).min(5_000.0);
            let (enter, exit) = match r.random_range(0..100) {
                0..=69 => (0, months),
                70..=84 => (r.random_range(0..months), months),
                85..=96 => (0, r.random_range(1..=months)),
                _ => {
                    let a = r.random_range(0..months);
                    (a, r.random_range(a + 1..=months))
                }
            };
            let ind = &INDUSTRIES[industry];
            let stem = pick(&mut r, NAME_STEMS);
            let word = pick(&mut r, ind.name_words);
            let legal = pick(&mut r, COUNTRIES[country].legal);
            let base = if ind.id == "government" && word.ends_with("of") {
                format!("{word} {stem}")
            } else if r.random_bool(0.15) {
                // a second stem for variety ("Cedar Summit Health")
                format!("{stem} {} {word}", pick(&mut r, NAME_STEMS))
            } else {
                format!("{stem} {word}")
            };
            let name = if legal.is_empty() {
                base.clone()
            } else {
                format!("{base} {legal}")
            };
            let tld = match COUNTRIES[country].iso {
                "US" => "com".to_string(),
                "GB" => "co.uk".to_string(),
                iso => iso.to_ascii_lowercase(),
            };
            let domain = format!(
                "{}{}.{}",
                slugify(&base),
                if r.random_bool(0.3) { "-careers" } else { "" },
                tld
            );
            list.push(Company {
                id,
                name,
                domain,
                industry,
                country,
                size,
                enter,
                exit,
                multinational: size > 200.0,
            });
        }
        Self { list }
    }

    /// Samplers for month `month_index`.
    pub fn for_month(&self, month_index: usize) -> MonthCompanies {
        let mut by_industry: Vec<Vec<(f64, u32)>> = vec![Vec::new(); INDUSTRIES.len()];
        let mut all = Vec::new();
        let mut acc_all = 0.0;
        let mut acc: Vec<f64> = vec![0.0; INDUSTRIES.len()];
        for c in self.list.iter().filter(|c| c.active(month_index)) {
            acc[c.industry] += c.size;
            by_industry[c.industry].push((acc[c.industry], c.id));
            acc_all += c.size;
            all.push((acc_all, c.id));
        }
        MonthCompanies { by_industry, all }
    }

    /// How many companies are in the scrape in each month.
    #[cfg(test)]
    pub fn active_counts(&self, months: usize) -> Vec<usize> {
        (0..months)
            .map(|m| self.list.iter().filter(|c| c.active(m)).count())
            .collect()
    }
}

fn draw(cum: &[(f64, u32)], rng: &mut GenRng) -> Option<u32> {
    let total = cum.last()?.0;
    let x = rng.random::<f64>() * total;
    let i = cum.partition_point(|(c, _)| *c <= x).min(cum.len() - 1);
    Some(cum[i].1)
}

impl MonthCompanies {
    /// A company of one of `industries` (tried in the order drawn), weighted by size; any active
    /// company when none of those industries has one this month.
    pub fn draw(&self, industries: &[usize], rng: &mut GenRng) -> Option<u32> {
        if !industries.is_empty() {
            // first industries are more likely: weights 1, 1/2, 1/3, ...
            let w: Vec<f64> = (0..industries.len())
                .map(|k| 1.0 / (k as f64 + 1.0))
                .collect();
            let k = pick_weighted(rng, &w);
            if let Some(id) = draw(&self.by_industry[industries[k]], rng) {
                return Some(id);
            }
        }
        draw(&self.all, rng)
    }

    /// The employer of a posting of a title in `industries`, and the index in [`COUNTRIES`] of
    /// the country it posts from: its home country mostly; multinationals post abroad too.
    pub fn draw_employer(
        &self,
        companies: &Companies,
        industries: &[usize],
        rng: &mut GenRng,
    ) -> (u32, usize) {
        let company_id = self.draw(industries, rng).unwrap_or(0);
        let company = &companies.list[company_id as usize];
        let country = if company.multinational && chance(rng, 0.3) {
            rng.random_range(0..COUNTRIES.len())
        } else {
            company.country
        };
        (company_id, country)
    }
}

/// Default universe size for `postings` records: about one company per 40 postings, at least
/// 200 and at most 50,000 (memory stays bounded at any N).
pub fn default_company_count(postings: u64) -> u32 {
    (postings / 40).clamp(200, 50_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_heavy_tailed_and_panel_changes() {
        let c = Companies::build(3, 5000, 34);
        let mut sizes: Vec<f64> = c.list.iter().map(|x| x.size).collect();
        sizes.sort_by(|a, b| b.total_cmp(a));
        let total: f64 = sizes.iter().sum();
        let top: f64 = sizes[..250].iter().sum();
        assert!(top / total > 0.3, "top 5% hold {:.2}", top / total);
        let act = c.active_counts(34);
        assert_ne!(act[0], act[33]);
    }
}
