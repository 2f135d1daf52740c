//! Recruitee careers site API: `GET {company}.recruitee.com/api/offers/`. One response with every
//! published offer (`offers`); description and requirements are HTML.

use super::{fetch_single, listing_url, parse_list, Session};
use crate::posting::{number_at, text_at, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let url = listing_url(s.company, |b| {
        format!("https://{b}.recruitee.com/api/offers/")
    });
    fetch_single(s, url, "offers").await.0
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    parse_list(responses, errors, "offers", |o| {
        let draft = text_at(o, &["status"]).is_some_and(|st| st != "published");
        (!draft).then(|| posting(o))
    })
}

fn posting(o: &Value) -> CollectedPosting {
    let description = match (text_at(o, &["description"]), text_at(o, &["requirements"])) {
        (Some(d), Some(r)) => Some(format!("{d}\n{r}")),
        (d, r) => d.or(r),
    };
    let flag = |k: &str| o.get(k).and_then(Value::as_bool) == Some(true);
    let workplace = if flag("remote") {
        Some("remote")
    } else if flag("hybrid") {
        Some("hybrid")
    } else if flag("on_site") {
        Some("onsite")
    } else {
        None
    };
    let mut extra = std::collections::BTreeMap::new();
    for k in [
        "slug",
        "careers_apply_url",
        "experience_code",
        "education_code",
        "category_code",
    ] {
        if let Some(v) = text_at(o, &[k]) {
            extra.insert(k.to_string(), v);
        }
    }
    CollectedPosting {
        key: text_at(o, &["id"])
            .or_else(|| text_at(o, &["careers_url"]))
            .unwrap_or_default(),
        title: text_at(o, &["title"]),
        description,
        location: text_at(o, &["location"]),
        country: text_at(o, &["country_code"]).or_else(|| text_at(o, &["country"])),
        department: text_at(o, &["department"]),
        employment_type: text_at(o, &["employment_type_code"]),
        workplace: workplace.map(str::to_string),
        salary_min: number_at(o, &["salary", "min"]),
        salary_max: number_at(o, &["salary", "max"]),
        salary_currency: text_at(o, &["salary", "currency"]),
        salary_period: text_at(o, &["salary", "period"]),
        // "2019-05-17 13:11:39 UTC": the zone word is dropped (the time is UTC already)
        published: text_at(o, &["published_at"])
            .or_else(|| text_at(o, &["created_at"]))
            .map(|d| d.trim_end_matches(" UTC").to_string()),
        updated: text_at(o, &["updated_at"]),
        url: text_at(o, &["careers_url"]),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_offer_fields() {
        let p = posting(&json!({
            "id": 4321, "slug": "designer", "title": "Designer", "status": "published",
            "description": "<p>Draw</p>", "requirements": "<ul><li>Figma</li></ul>",
            "location": "Amsterdam, Netherlands", "country_code": "NL", "remote": false, "hybrid": true,
            "department": "Design", "employment_type_code": "fulltime_permanent",
            "published_at": "2019-05-17 13:11:39 UTC", "careers_url": "https://acme.recruitee.com/o/designer",
            "salary": {"min": "3000", "max": "4000", "currency": "EUR", "period": "month"}
        }));
        assert_eq!(p.key, "4321");
        assert_eq!(p.country.as_deref(), Some("NL"));
        assert_eq!(p.workplace.as_deref(), Some("hybrid"));
        assert_eq!(p.salary_max, Some(4000.0));
        assert_eq!(p.published.as_deref(), Some("2019-05-17 13:11:39"));
        assert!(p.description.unwrap().contains("Figma"));
    }
}
