#!/usr/bin/env python3
"""Generate the encoder parity fixture texts (crates/encode/tests/fixtures/parity_texts.jsonl).

Deterministic (fixed seed, no external data): every text is written here or assembled from the
phrase lists below and the titles in fixture_titles.txt, so the committed fixture contains no
real postings. Categories:
  title       short job titles (plain, seniority variants, punctuation, C++/C#, abbreviations)
  description posting-like paragraphs of 20-200 words
  long        descriptions far beyond max_seq_length (256 tokens for MiniLM, 384 for MPNet)
  non_ascii   titles and sentences in German, French, Spanish, Chinese, Japanese, Arabic, ...
  emoji       titles and sentences with emoji / symbols
  empty       texts that are empty or become empty after cleaning (whitespace, control chars)

Run:  python benches/encode/make_fixture_texts.py  (rewrites the fixture; then rerun
make_reference.py to refresh the reference vectors).
"""
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "crates/encode/tests/fixtures/parity_texts.jsonl"

# Short job titles, one per line (data, not code).
TITLES = (Path(__file__).resolve().parent / "fixture_titles.txt").read_text(encoding="utf-8").splitlines()

NON_ASCII = [
    "Softwareentwickler (m/w/d)", "Krankenpfleger (m/w/d) – Intensivstation", "Ingénieur logiciel",
    "Développeur Full-Stack H/F", "Chargé de communication", "Ingeniero de datos", "Diseñador gráfico",
    "Enfermera titulada", "Engenheiro de Software Sênior", "Analista de Dados Júnior",
    "软件工程师", "高级数据科学家（远程）", "市场营销经理", "機械学習エンジニア", "看護師（正社員）",
    "데이터 엔지니어", "مهندس برمجيات", "مدير التسويق", "Инженер-программист", "Бухгалтер",
    "Μηχανικός λογισμικού", "מהנדס תוכנה", "सॉफ्टवेयर इंजीनियर", "Kỹ sư phần mềm",
    "Café-Mitarbeiter", "Naïve Bayes Researcher — Zürich", "Ｆｕｌｌｗｉｄｔｈ Ｅｎｇｉｎｅｅｒ",
    "Ärztin / Arzt für Allgemeinmedizin",
    "Wir suchen eine engagierte Pflegefachkraft für unser Team in München. Sie betreuen Patientinnen "
    "und Patienten, dokumentieren die Pflege und arbeiten eng mit Ärztinnen und Ärzten zusammen.",
    "Nous recherchons un(e) graphiste créatif(ve) pour concevoir des supports de communication "
    "print et digitaux, en lien avec l'équipe marketing à Paris.",
    "我们正在寻找一名有经验的后端工程师，负责设计和维护高并发的分布式系统，熟悉 Go 或 Java 优先。",
    "当社では、データ分析基盤の設計と運用を担当するデータエンジニアを募集しています。",
]

EMOJI = [
    "🚀 Software Engineer 🚀", "Barista ☕ (part-time)", "🔥 Hiring: Sales Manager 🔥", "Nurse 👩‍⚕️",
    "Data Scientist 📊📈", "Chef 👨🏽‍🍳 – Fine Dining", "🎨 Graphic Designer", "Driver 🚚💨",
    "💼", "🚀", "✨✨✨", "Join our team! 🙌 We're growing fast 📈 and need a Marketing Specialist 💡.",
    "Customer Support Hero 🦸 — help our users every day 😊", "DevOps ⚙️ / SRE 🛠️",
    "Remote 🌍 Account Executive", "🇩🇪 Softwareentwickler 🇩🇪",
]

EMPTY = [
    "", " ", "   ", "\t", "\n", "\r\n", " \t\n ", "\u00a0", "\u3000", "\u200b", "\x00", "\x1f",
    "\u0007\u0008", "\ufeff",
]

INTRO = [
    "We are looking for a motivated {t} to join our growing team.",
    "Our client, a leading company in the {i} industry, is hiring a {t}.",
    "As a {t}, you will work closely with cross-functional partners across the business.",
    "This is a full-time, permanent position based in our {c} office with hybrid flexibility.",
]
DUTIES = [
    "Design, build and maintain reliable systems that serve millions of customers.",
    "Collaborate with product managers, designers and engineers to ship new features.",
    "Analyze large data sets to identify trends and present findings to stakeholders.",
    "Prepare and review documentation, reports and compliance filings on schedule.",
    "Provide excellent customer service by phone, email and chat, resolving issues on first contact.",
    "Manage a portfolio of key accounts and grow revenue through consultative selling.",
    "Create compelling visual assets for web, social media, print and video campaigns.",
    "Monitor environmental conditions, collect samples and record field measurements accurately.",
    "Assist physicians with patient intake, vital signs, charting and scheduling.",
    "Train and mentor junior team members and contribute to hiring.",
    "Develop and monitor key performance indicators and operational dashboards.",
    "Ensure adherence to safety procedures, quality standards and regulatory requirements.",
    "Lead the planning and execution of sustainability initiatives across our operations.",
    "Write clear, concise copy for product pages, newsletters and press releases.",
    "Operate chemical processing equipment and perform routine maintenance checks.",
]
REQS = [
    "Bachelor's degree in a related field or equivalent practical experience.",
    "3+ years of professional experience in a similar role.",
    "Strong written and verbal communication skills in English.",
    "Experience with Python, SQL and cloud platforms such as AWS, GCP or Azure.",
    "Ability to work independently, prioritize tasks and meet deadlines in a fast-paced environment.",
    "Familiarity with HIPAA, GDPR or other relevant regulations is a plus.",
    "Valid driver's license and ability to lift up to 50 lbs.",
    "Proficiency with Adobe Creative Suite (Photoshop, Illustrator, After Effects).",
]
BENEFITS = [
    "We offer a competitive salary of $85,000 - $120,000 per year, plus equity.",
    "Benefits include medical, dental and vision insurance, a 401(k) match and 20 days of PTO.",
    "We are an equal opportunity employer and value diversity at our company.",
    "Apply today at careers.example.com/jobs/12345 or email jobs@example.com!",
]
INDUSTRIES = ["healthcare", "fintech", "retail", "logistics", "media", "energy", "manufacturing"]
CITIES = ["Austin, TX", "London", "Berlin", "Toronto", "Singapore", "New York, NY", "remote"]


def description(rng, title, n_duties, n_reqs):
    parts = [rng.choice(INTRO).format(t=title, i=rng.choice(INDUSTRIES), c=rng.choice(CITIES))]
    parts.append("Responsibilities:")
    parts += ["- " + d for d in rng.sample(DUTIES, n_duties)]
    parts.append("Requirements:")
    parts += ["- " + r for r in rng.sample(REQS, n_reqs)]
    parts.append(rng.choice(BENEFITS))
    return "\n".join(parts)


def main():
    rng = random.Random(20251129)
    rows = []
    for t in TITLES:
        rows.append(("title", t))
    for t in NON_ASCII:
        rows.append(("non_ascii", t))
    for t in EMOJI:
        rows.append(("emoji", t))
    for t in EMPTY:
        rows.append(("empty", t))
    for k in range(30):
        t = rng.choice(TITLES)
        rows.append(("description", description(rng, t, rng.randint(1, 6), rng.randint(1, 4))))
    for k in range(20):
        t = rng.choice(TITLES)
        # 3-4 full postings back to back: 450-900 tokens, beyond both models' max_seq_length
        body = "\n\n".join(description(rng, t, 8 + k % 5, 4 + k % 3) for _ in range(3 + k % 2))
        if k % 4 == 0:
            body = "🚀 " + body + " 🎉"
        if k % 5 == 0:
            body = body + "\n\n" + NON_ASCII[28 + k % 4]
        rows.append(("long", body))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for i, (kind, text) in enumerate(rows):
            f.write(json.dumps({"id": i, "kind": kind, "text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} texts to {OUT}")


if __name__ == "__main__":
    main()
