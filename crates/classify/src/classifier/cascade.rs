//! The cascade's steps 0–4 ([`Classifier::classify`] runs them, then the population's).

use super::title_rules::{is_bare_engineer, leaves_the_leading_title, tail_names_an_area};
use super::{
    reason, CascadeOptions, CascadeStats, Classifier, Method, Prediction, TitleInput,
    MAX_TITLE_CHARS, ROLE_SCAN_CHARS,
};
use crate::embed_cache::EmbedCache;
use crate::heads::top_k;
use crate::roles::{read_title_field, RoleMention, RoleTier, TitleField};
use crate::seniority::{cap_chars, is_generic_title, resolve_seniority, CleaningRule};
use crate::ClassifyError;
use jobshift_core::schema::UNCLASSIFIED;
use jobshift_taxonomy::Title;
use std::collections::HashMap;
use std::time::Instant;

impl Classifier {
    /// Steps 0–4 of [`Classifier::classify`].
    pub(crate) fn cascade(
        &self,
        inputs: &[TitleInput<'_>],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<Vec<Prediction>, ClassifyError> {
        stats.inputs += inputs.len();
        let mut out: Vec<Option<Prediction>> = vec![None; inputs.len()];
        // bound the work per title (a description pasted into the title field)
        let capped: Vec<&str> = inputs
            .iter()
            .map(|i| cap_chars(i.title, MAX_TITLE_CHARS))
            .collect();
        let inputs: Vec<TitleInput<'_>> = inputs
            .iter()
            .zip(&capped)
            .map(|(i, t)| TitleInput {
                title: t,
                description: i.description,
            })
            .collect();
        let inputs = &inputs[..];
        // 0. postings whose title field names no role, or several
        let t0 = Instant::now();
        let cleaned: Vec<String> = inputs
            .iter()
            .map(|i| crate::seniority::clean_title_with(i.title, opts.cleaning))
            .collect();
        // the alias each title names (looked up once; steps 0 and 1 both read it)
        let alias: Vec<Option<&Title>> = inputs
            .iter()
            .zip(&cleaned)
            .map(|(inp, c)| {
                opts.use_alias
                    .then(|| self.alias_hit(inp.title, c))
                    .flatten()
            })
            .collect();
        let description_only = self.postings_without_a_role(inputs, &alias, opts, &mut out, stats);
        let mut is_description_only = vec![false; inputs.len()];
        for &i in &description_only {
            is_description_only[i] = true;
        }
        // 1. alias
        if opts.use_alias {
            self.alias_step(
                inputs,
                &cleaned,
                &alias,
                &is_description_only,
                opts,
                &mut out,
                stats,
            );
        }
        stats.alias_time += t0.elapsed();
        // 2. title embedding, each distinct cleaned title once
        let todo: Vec<usize> = (0..inputs.len())
            .filter(|&i| out[i].is_none() && !is_description_only[i])
            .collect();
        stats.title_step += todo.len();
        if todo.is_empty() && description_only.is_empty() {
            return Ok(out.into_iter().flatten().collect());
        }
        let titles = self.title_scores(&todo, &cleaned, cache, opts, stats)?;
        // 3. description for ambiguous titles, and alone where the title names no role
        let t3 = Instant::now();
        let desc_probs = self.description_scores(
            inputs,
            &cleaned,
            &todo,
            &description_only,
            &titles,
            opts,
            stats,
        )?;
        stats.description_time += t3.elapsed();
        // 4. confidence and abstention
        let k = self.meta.classes.len();
        for &i in todo.iter().chain(&description_only) {
            let (row, method): (&[f32], Method) = match desc_probs.get(&i) {
                Some(p) => (p.as_slice(), Method::Description),
                None => match titles.slot.get(cleaned[i].as_str()) {
                    Some(&s) => (&titles.probs[s * k..][..k], Method::TitleEmbedding),
                    None => {
                        // description-only row without a description (cannot happen: kept
                        // only when described); abstain rather than guess
                        out[i] = Some(self.abstention(inputs[i].title, reason::NOT_A_TITLE, 0.0));
                        stats.unclassified += 1;
                        continue;
                    }
                },
            };
            out[i] = Some(self.decide(
                &inputs[i],
                &cleaned[i],
                row,
                method,
                is_description_only[i],
                opts,
                stats,
            ));
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Step 0: a title field that names no role (empty, a location, "Multiple roles") is
    /// abstained on, or — with a description — classified by the role the text names; rows
    /// whose text names none are returned, for the description alone. A title naming several
    /// roles takes the first and keeps all in `roles`. Exact aliases are left to step 1.
    pub(super) fn postings_without_a_role(
        &self,
        inputs: &[TitleInput<'_>],
        alias: &[Option<&Title>],
        opts: &CascadeOptions,
        out: &mut [Option<Prediction>],
        stats: &mut CascadeStats,
    ) -> Vec<usize> {
        // rows whose description alone is embedded (title names no role, text names no title)
        let mut description_only: Vec<usize> = Vec::new();
        for (i, inp) in inputs.iter().enumerate() {
            if alias[i].is_some() {
                continue;
            }
            let desc = described(inp, opts);
            if inp.title.trim().is_empty() && desc.is_none() {
                out[i] = Some(self.abstention(inp.title, reason::EMPTY_TITLE, 0.0));
                stats.unclassified += 1;
                continue;
            }
            if !self.can_read(inp.title, opts) {
                // "软件工程师": the text may still name the role in words the finder knows
                stats.unsupported_script += 1;
                out[i] = Some(
                    self.role_named_in_text(inp.title, desc, stats)
                        .unwrap_or_else(|| {
                            stats.unclassified += 1;
                            self.abstention(inp.title, reason::UNSUPPORTED_SCRIPT, 0.0)
                        }),
                );
                continue;
            }
            let field = match read_title_field(inp.title, &self.roles, desc.is_some()) {
                TitleField::NotATitle if !opts.cleaning.applies(CleaningRule::NonTitles) => {
                    TitleField::Other
                }
                field => field,
            };
            match field {
                TitleField::NotATitle => {
                    stats.not_a_title += 1;
                    if let Some(p) = self.role_named_in_text(inp.title, desc, stats) {
                        out[i] = Some(p);
                    } else if let Some(p) = desc
                        // "Factual is currently hiring engineers", and a software stack
                        .filter(|d| crate::roles::hires_engineers(d))
                        .and_then(|d| self.software_engineer_of(inp.title, d))
                    {
                        stats.role_from_description += 1;
                        out[i] = Some(p);
                    } else if desc.is_some_and(|d| self.can_read(d, opts)) && opts.description_alone
                    {
                        description_only.push(i);
                    } else {
                        out[i] = Some(self.abstention(inp.title, reason::NOT_A_TITLE, 0.0));
                        stats.unclassified += 1;
                    }
                }
                field if opts.use_alias && opts.cleaning.applies(CleaningRule::SeveralRoles) => {
                    out[i] = self.roles_named_in_title(inp.title, field, stats);
                }
                _ => {}
            }
        }
        description_only
    }

    /// The role(s) a posting's text names (header, role lines, hiring sentences), as the
    /// prediction of a posting whose title field gives none: the first, all in `roles`.
    pub(super) fn role_named_in_text(
        &self,
        title: &str,
        description: Option<&str>,
        stats: &mut CascadeStats,
    ) -> Option<Prediction> {
        let d = description?;
        let found = self.roles.roles_in_posting(d, ROLE_SCAN_CHARS);
        if found.is_empty() {
            return None;
        }
        stats.role_from_description += 1;
        stats.several_roles += usize::from(found.len() > 1);
        Some(self.role_prediction(title, d, &found))
    }

    /// Whether this classifier's encoder can read `text`: any text for an encoder not known to
    /// be English-only, else text not mostly in another script than Latin ([`crate::script`];
    /// `--skip-cleaning other-scripts` reads every text).
    pub(super) fn can_read(&self, text: &str, opts: &CascadeOptions) -> bool {
        !self.english_only
            || !opts.cleaning.applies(CleaningRule::OtherScripts)
            || crate::script::latin_readable(text)
    }

    /// The role(s) a title field that is no exact alias names inside more words, as an alias
    /// prediction: a sentence about hiring ("Reflex (YC W23) Is Hiring Software Engineers"),
    /// several roles ("Frontend / Backend Developer": the first, all in `roles`), or one role
    /// beside parts that name none ("Founding Engineers & GTM"). `field` is step 0's reading
    /// of the title ([`read_title_field`]). `None` leaves the title to the embedding.
    pub(super) fn roles_named_in_title(
        &self,
        title: &str,
        field: TitleField,
        stats: &mut CascadeStats,
    ) -> Option<Prediction> {
        let (found, inside) = match field {
            TitleField::HiringRoles(found) => (found, true),
            _ => {
                let several = self.roles.roles_in_title(title);
                if several.len() > 1 {
                    (several, false)
                } else {
                    (
                        self.roles
                            .role_among_conjoined_parts(title)
                            .into_iter()
                            .collect(),
                        true,
                    )
                }
            }
        };
        let first = &self.taxonomy.titles()[*found.first()?];
        let ids: Vec<String> = found
            .iter()
            .map(|&t| self.taxonomy.titles()[t].id.clone())
            .collect();
        stats.alias_hits += 1;
        stats.several_roles += usize::from(ids.len() > 1);
        stats.role_in_title += usize::from(inside);
        let top5 = ids.iter().take(5).cloned().collect();
        let roles = if ids.len() > 1 { ids } else { Vec::new() };
        Some(self.alias_prediction(title, first, top5, roles))
    }

    /// Step 1: a title (raw or cleaned) that is a taxonomy name or alias takes that title —
    /// except a generic one ("Consultant") when a description is there to decide.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn alias_step(
        &self,
        inputs: &[TitleInput<'_>],
        cleaned: &[String],
        alias: &[Option<&Title>],
        is_description_only: &[bool],
        opts: &CascadeOptions,
        out: &mut [Option<Prediction>],
        stats: &mut CascadeStats,
    ) {
        for (i, inp) in inputs.iter().enumerate() {
            if out[i].is_some() || is_description_only[i] {
                continue;
            }
            let has_description =
                opts.use_description && inp.description.is_some_and(|d| !d.trim().is_empty());
            if has_description && is_generic_title(&cleaned[i]) {
                // "Consultant" may be an alias, but the description knows better
                continue;
            }
            if let Some(t) = alias[i] {
                stats.alias_hits += 1;
                out[i] = Some(self.alias_prediction(inp.title, t, vec![t.id.clone()], Vec::new()));
            }
        }
    }

    /// Step 2: the head's class probabilities for each distinct cleaned title of the rows
    /// `todo`, embedding only what `cache` lacks and scoring only titles no earlier call scored
    /// (a title's scores depend on its embedding alone, so a kept row is the row the head would
    /// return again).
    pub(super) fn title_scores<'c>(
        &self,
        todo: &[usize],
        cleaned: &'c [String],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<TitleScores<'c>, ClassifyError> {
        let t1 = Instant::now();
        let mut distinct: Vec<&str> = Vec::new();
        let mut slot: HashMap<&str, usize> = HashMap::new();
        for &i in todo {
            let c = cleaned[i].as_str();
            if !slot.contains_key(c) {
                slot.insert(c, distinct.len());
                distinct.push(c);
            }
        }
        let before = cache.encoded;
        cache.ensure(
            self.encoder.as_ref(),
            &distinct,
            opts.batch_size,
            &mut |_, _| {},
        )?;
        stats.title_embedded += cache.encoded - before;
        stats.title_cache_hits += todo.len() - (cache.encoded - before);
        stats.title_encode_time += t1.elapsed();
        let t2 = Instant::now();
        let k = self.meta.classes.len();
        let unscored: Vec<&str> = {
            let kept = cache.head_scores(self.id);
            distinct
                .iter()
                .copied()
                .filter(|t| !kept.contains(t))
                .collect()
        };
        let fresh = if unscored.is_empty() {
            Vec::new()
        } else {
            let x = cache.matrix(&unscored)?;
            self.head.predict_proba(&x)?
        };
        stats.title_head_scored += unscored.len();
        stats.title_head_reused += distinct.len() - unscored.len();
        let mut probs = vec![0f32; distinct.len() * k];
        let kept = cache.head_scores(self.id);
        let mut next_fresh = fresh.chunks(k.max(1));
        for (t, row) in distinct.iter().zip(probs.chunks_mut(k.max(1))) {
            if !kept.fill(t, row) {
                // scored in this call (`unscored` is in `distinct` order)
                let Some(f) = next_fresh.next() else {
                    return Err(ClassifyError::Predict(format!(
                        "the head returned fewer rows than the {} titles it scored",
                        unscored.len()
                    )));
                };
                row.copy_from_slice(f);
            }
        }
        for (t, f) in unscored.iter().zip(fresh.chunks(k.max(1))) {
            kept.insert(t, f);
        }
        stats.title_head_time += t2.elapsed();
        Ok(TitleScores { slot, probs })
    }

    /// Step 3: probabilities from the description — averaged with the title's where the title
    /// is ambiguous (top-2 margin below `ambiguity_margin`, or generic), alone for the rows
    /// `description_only` (never blended with a meaningless title's scores). Row → probabilities.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn description_scores(
        &self,
        inputs: &[TitleInput<'_>],
        cleaned: &[String],
        todo: &[usize],
        description_only: &[usize],
        titles: &TitleScores<'_>,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<HashMap<usize, Vec<f32>>, ClassifyError> {
        let k = self.meta.classes.len();
        let (slot, probs) = (&titles.slot, &titles.probs);
        let mut desc_rows: Vec<usize> = Vec::new();
        let mut desc_texts: Vec<String> = Vec::new();
        if opts.use_description {
            for &i in todo {
                let row = &probs[slot[cleaned[i].as_str()] * k..][..k];
                let top = top_k(row, 2);
                let margin = top[0].1 - top.get(1).map(|t| t.1).unwrap_or(0.0);
                if margin < opts.ambiguity_margin || is_generic_title(&cleaned[i]) {
                    if let Some(d) = inputs[i]
                        .description
                        .filter(|d| !d.trim().is_empty() && self.can_read(d, opts))
                    {
                        desc_rows.push(i);
                        desc_texts.push(description_text(
                            inputs[i].title,
                            d,
                            opts.description_chars,
                        ));
                    }
                }
            }
        }
        let n_blended = desc_rows.len();
        for &i in description_only {
            if let Some(d) = described(&inputs[i], opts) {
                desc_rows.push(i);
                desc_texts.push(description_text("", d, opts.description_chars));
            }
        }
        let mut desc_probs: HashMap<usize, Vec<f32>> = HashMap::new();
        if !desc_rows.is_empty() {
            let dm = self.embed_texts(&desc_texts, opts.batch_size)?;
            let head = self.desc_head.as_ref().unwrap_or(&self.head);
            let p = head.predict_proba(&dm)?;
            for (j, &i) in desc_rows.iter().enumerate() {
                let drow = &p[j * k..(j + 1) * k];
                let combined: Vec<f32> = if j < n_blended {
                    let trow = &probs[slot[cleaned[i].as_str()] * k..][..k];
                    trow.iter().zip(drow).map(|(a, b)| 0.5 * (a + b)).collect()
                } else {
                    drow.to_vec()
                };
                desc_probs.insert(i, combined);
            }
            stats.description_used += desc_rows.len();
            stats.description_only += desc_rows.len() - n_blended;
        }
        Ok(desc_probs)
    }

    /// Step 4 for one row scored by `method` (`row`: its class probabilities): the calibrated
    /// (and, when re-fitted, recalibrated) confidence, the top titles, and below
    /// `min_confidence` an abstention — unless the posting names its role in the header or a
    /// role line, which is then taken.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide(
        &self,
        input: &TitleInput<'_>,
        cleaned: &str,
        row: &[f32],
        method: Method,
        description_alone: bool,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Prediction {
        let mut top = top_k(row, 5);
        // "CT Senior Network Engineer" is an engineer: not a title never written so
        // (Radiologic Technologist), whatever the embedding's neighbours say
        let head = (!description_alone && opts.cleaning.applies(CleaningRule::HeadWords))
            .then(|| crate::head_word::checked_head(cleaned))
            .flatten();
        let written = head.and_then(|h| self.top_written_with(row, &top, h));
        let refused = written.is_some();
        if let Some(w) = written {
            top = w;
        }
        stats.head_word_refused += usize::from(refused);
        let calib = match method {
            Method::Description => self
                .meta
                .desc_calibration
                .as_ref()
                .unwrap_or(&self.meta.calibration),
            _ => &self.meta.calibration,
        };
        let mut confidence = calib.apply(top[0].1);
        if let Some(r) = self
            .meta
            .recalibration
            .as_ref()
            .filter(|r| r.head == self.meta.head)
        {
            confidence = r.map.apply(confidence);
        }
        let best = self.class_title(top[0].0);
        let abstain = confidence < opts.min_confidence;
        // "Software Engineer - Video Management", "Data Scientist - Credit Risk": the exact
        // title before the separator, where the embedding's answer left its family and its kind
        if !abstain && method == Method::TitleEmbedding && !description_alone && opts.use_alias {
            let leading = tail_names_an_area(input.title)
                .then(|| self.leading_title(input.title))
                .flatten();
            if let Some(t) = leading
                .or_else(|| self.header_title(input.title))
                .filter(|t| leaves_the_leading_title(t, best))
            {
                stats.leading_title_kept += usize::from(leading.is_some());
                stats.header_title += usize::from(leading.is_none());
                return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
            }
        }
        if abstain {
            // a low-confidence title whose posting names its role in the header or a role
            // line: the named role
            if let Some(d) = described(input, opts) {
                let found: Vec<RoleMention> = self
                    .roles
                    .roles_in_posting(d, ROLE_SCAN_CHARS)
                    .into_iter()
                    .filter(|m| m.tier <= RoleTier::RoleLine)
                    .collect();
                if !found.is_empty() {
                    stats.role_from_description += 1;
                    stats.several_roles += usize::from(found.len() > 1);
                    return self.role_prediction(input.title, d, &found);
                }
                // "Senior Engineer" in a posting that writes out a software stack ("Stack: TS,
                // Postgres, React, GraphQL"): a software engineer, as any reader takes it
                if let Some(p) = is_bare_engineer(cleaned)
                    .then(|| self.software_engineer_of(input.title, d))
                    .flatten()
                {
                    stats.role_from_description += 1;
                    return p;
                }
            }
            // "Senior Software Engineer, Database Engine": the title before the team;
            // "Frontend Technical Lead": the practitioner of the specialty led
            if !description_alone && opts.use_alias {
                if let Some(t) = self.leading_title(input.title) {
                    stats.leading_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                // "Shoefitr - Software Engineer - Pittsburgh, PA": the one title a later part
                // names, the company first
                if let Some(t) = self.header_title(input.title) {
                    stats.header_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                if let Some(t) = self.lead_specialty(cleaned) {
                    stats.lead_specialty += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                // "Rust Software Engineer": the title the technology qualifies
                if let Some(t) = self.technology_title(cleaned) {
                    stats.technology_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                // "CT Senior Network Engineer", its embedding's answer refused: the title it
                // ends with
                if let Some(t) = head
                    .filter(|_| refused)
                    .and_then(|h| self.trailing_title(cleaned, h))
                {
                    stats.trailing_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
            }
            stats.unclassified += 1;
        }
        Prediction {
            title_id: if abstain {
                UNCLASSIFIED.to_string()
            } else {
                best.id.clone()
            },
            confidence,
            method: if abstain {
                Method::Unclassified
            } else {
                method
            },
            alternatives: top
                .iter()
                .take(3)
                .map(|(c, s)| (self.class_title(*c).id.clone(), *s))
                .collect(),
            seniority: resolve_seniority(
                input.title,
                if abstain { None } else { Some(best.level) },
            ),
            top5: top
                .iter()
                .map(|(c, _)| self.class_title(*c).id.clone())
                .collect(),
            best: best.id.clone(),
            reason: abstain.then_some(if description_alone {
                reason::NOT_A_TITLE
            } else {
                reason::LOW_CONFIDENCE
            }),
            roles: Vec::new(),
        }
    }

    /// An abstention that names its reason.
    pub(super) fn abstention(&self, title: &str, why: &'static str, confidence: f32) -> Prediction {
        Prediction {
            title_id: UNCLASSIFIED.to_string(),
            confidence,
            method: Method::Unclassified,
            alternatives: Vec::new(),
            seniority: resolve_seniority(title, None),
            top5: Vec::new(),
            best: UNCLASSIFIED.to_string(),
            reason: Some(why),
            roles: Vec::new(),
        }
    }

    /// The prediction for a posting whose description names its role(s): the first (most
    /// trusted) is the title, all are kept in `roles`; the confidence is the alias step's (an
    /// exact alias match, read from the text). Seniority from the title field and the words
    /// around the role.
    pub(super) fn role_prediction(
        &self,
        title: &str,
        description: &str,
        found: &[RoleMention],
    ) -> Prediction {
        let first = &self.taxonomy.titles()[found[0].title];
        let ids: Vec<String> = found
            .iter()
            .map(|m| self.taxonomy.titles()[m.title].id.clone())
            .collect();
        let header = description
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let words = format!("{title} {}", cap_chars(header, MAX_TITLE_CHARS));
        Prediction {
            title_id: first.id.clone(),
            confidence: self.meta.alias_confidence,
            method: Method::Description,
            alternatives: vec![(first.id.clone(), 1.0)],
            seniority: resolve_seniority(&words, Some(first.level)),
            top5: ids.iter().take(5).cloned().collect(),
            best: first.id.clone(),
            reason: None,
            roles: if ids.len() > 1 { ids } else { Vec::new() },
        }
    }
}

/// The text the description step embeds: the title, then the start of the description.
pub fn description_text(title: &str, description: &str, max_chars: usize) -> String {
    let mut d: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = d.char_indices().nth(max_chars) {
        d.truncate(cut);
    }
    format!("{title}. {d}")
}

/// The text step 6's head reads for a title: the title field as written, `None` when blank.
pub(super) fn title_text(title: &str) -> Option<String> {
    let t = title.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Step 2's result: each distinct cleaned title's row in `probs` (classes wide).
pub(super) struct TitleScores<'c> {
    slot: HashMap<&'c str, usize>,
    probs: Vec<f32>,
}

/// The posting's description when the cascade may read it (descriptions on, not blank).
pub(super) fn described<'a>(input: &TitleInput<'a>, opts: &CascadeOptions) -> Option<&'a str> {
    input
        .description
        .filter(|d| opts.use_description && !d.trim().is_empty())
}
