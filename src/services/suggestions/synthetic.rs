//! Public jobs made up for measuring the copy: titles of a seniority, a field and a role (some
//! with a team), skills of the taxonomy, companies with names of their own, places and pay,
//! drawn so that a few of each are common and most are rare, as on a real portal.

use super::salary_index::YearlySalary;
use super::store::Facts;
use crate::models::job::{Seniority, Workplace};

const SENIORITIES: &[&str] =
    &["", "", "", "Junior", "Senior", "Sr.", "Lead", "Staff", "Principal", "Jr.", "Head of"];
const FIELDS: &[&str] = &[
    "Rust",
    "Python",
    "Java",
    "Go",
    "Frontend",
    "Backend",
    "Full Stack",
    "Data",
    "Machine Learning",
    "DevOps",
    "Cloud",
    "Security",
    "Mobile",
    "iOS",
    "Android",
    "QA",
    "Embedded",
    "Platform",
    "Site Reliability",
    "Database",
    "Network",
    "Game",
    "Blockchain",
    "UX",
    "Product",
    "Marketing",
    "Sales",
    "Finance",
    "HR",
    "Customer Success",
    "C++",
    "C#",
    ".NET",
    "Node.js",
    "React",
    "Angular",
    "Vue",
    "PHP",
    "Ruby",
    "Scala",
    "Kotlin",
    "Swift",
    "Salesforce",
    "SAP",
    "BI",
    "Analytics",
    "Infrastructure",
    "Systems",
    "Firmware",
    "Hardware",
    "Test Automation",
    "Content",
    "Growth",
    "Brand",
    "Legal",
    "Operations",
    "Supply Chain",
    "Research",
    "AI",
    "NLP",
];
const ROLES: &[&str] = &[
    "Engineer",
    "Developer",
    "Architect",
    "Analyst",
    "Scientist",
    "Manager",
    "Designer",
    "Consultant",
    "Specialist",
    "Administrator",
    "Intern",
    "Coordinator",
    "Director",
    "Technician",
    "Programmer",
    "Tester",
    "Lead",
    "Officer",
    "Strategist",
    "Writer",
    "Owner",
    "Recruiter",
    "Advocate",
    "Trainer",
    "Associate",
];
const TEAMS: &[&str] = &[
    "Payments",
    "Search",
    "Growth",
    "Identity",
    "Billing",
    "Checkout",
    "Risk",
    "Core",
    "Mobile",
    "Ads",
    "Logistics",
    "Observability",
    "Compliance",
    "Onboarding",
    "Pricing",
    "Messaging",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "ver", "tri", "zen", "mo", "ra", "bel", "dex", "no", "vi", "sol", "ta", "quin",
    "ar", "po", "lux", "e", "fi", "gen", "ox", "um", "ly", "cor",
];
const COMPANY_ENDS: &[&str] =
    &["", "", "Labs", "GmbH", "Inc.", "Technologies", "Group", "Systems", "AI", "Health", "Bank"];
const CITIES: &[(&str, &str)] = &[
    ("Lisbon", "PT"),
    ("Porto", "PT"),
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Hamburg", "DE"),
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("Madrid", "ES"),
    ("Barcelona", "ES"),
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Dublin", "IE"),
    ("Amsterdam", "NL"),
    ("Rotterdam", "NL"),
    ("Brussels", "BE"),
    ("Vienna", "AT"),
    ("Zurich", "CH"),
    ("Geneva", "CH"),
    ("Milan", "IT"),
    ("Rome", "IT"),
    ("Warsaw", "PL"),
    ("Krakow", "PL"),
    ("Prague", "CZ"),
    ("Stockholm", "SE"),
    ("Oslo", "NO"),
    ("Copenhagen", "DK"),
    ("Helsinki", "FI"),
    ("Tallinn", "EE"),
    ("New York", "US"),
    ("San Francisco", "US"),
    ("Austin", "US"),
    ("Seattle", "US"),
    ("Boston", "US"),
    ("Chicago", "US"),
    ("Toronto", "CA"),
    ("Vancouver", "CA"),
    ("Sydney", "AU"),
    ("Melbourne", "AU"),
    ("Singapore", "SG"),
    ("Tokyo", "JP"),
    ("Bangalore", "IN"),
    ("Sao Paulo", "BR"),
    ("Mexico City", "MX"),
    ("Cape Town", "ZA"),
];

/// A small deterministic generator (xorshift64*), so every run makes the same jobs.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`, small ones far likelier (the cube of a uniform draw).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize
    }

    fn uniform(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// A made-up name of two to four syllables, capitalised.
    fn name(&mut self) -> String {
        let len = 2 + self.uniform(3);
        let mut name: String = (0..len).map(|_| SYLLABLES[self.uniform(SYLLABLES.len())]).collect();
        name[..1].make_ascii_uppercase();
        name
    }
}

/// `n` public jobs, the same for the same `seed`; `skills` is the taxonomy they draw from.
pub fn jobs(n: usize, seed: u64, skills: &[&str]) -> Vec<Facts> {
    let mut draw = Draw(seed | 1);
    // One company per eight jobs on average, each with a name of its own.
    let companies: Vec<String> = (0..n.div_ceil(8).max(1))
        .map(|_| {
            let end = COMPANY_ENDS[draw.uniform(COMPANY_ENDS.len())];
            format!("{} {end}", draw.name()).trim().to_owned()
        })
        .collect();
    (0..n)
        .map(|i| {
            let mut title = [
                SENIORITIES[draw.uniform(SENIORITIES.len())],
                FIELDS[draw.skewed(FIELDS.len())],
                ROLES[draw.skewed(ROLES.len())],
            ]
            .join(" ");
            if draw.chance(20) {
                title = format!("{title}, {}", TEAMS[draw.uniform(TEAMS.len())]);
            } else if draw.chance(5) {
                title = format!("{title} ({})", draw.name());
            }
            let skills: Vec<String> = (0..2 + draw.uniform(4))
                .map(|_| {
                    let skill = skills[draw.skewed(skills.len())];
                    if draw.chance(10) { skill.to_uppercase() } else { skill.to_owned() }
                })
                .collect();
            let places: Vec<(&str, &str)> = (0..1 + usize::from(draw.chance(25)))
                .map(|_| CITIES[draw.skewed(CITIES.len())])
                .collect();
            let salary = draw.chance(40).then(|| YearlySalary {
                currency: ["EUR", "USD", "GBP"][draw.uniform(3)].to_owned(),
                yearly: 30_000.0 + draw.uniform(120_000) as f64,
            });
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                draw.next() as u32,
                draw.next() as u16,
                draw.next() as u16 & 0xfff,
                draw.next() as u16 & 0xfff,
                draw.next() & 0xffff_ffff_ffff
            );
            Facts {
                id,
                version: 1_700_000_000_000_000 + i as i64,
                title: super::text::title_form(&title),
                skills,
                company: companies[draw.skewed(companies.len())].clone(),
                locations: places
                    .iter()
                    .map(|(city, country)| format!("{city}, {country}"))
                    .collect(),
                countries: places.iter().map(|(_, country)| (*country).to_owned()).collect(),
                seniority: draw.chance(50).then_some(Seniority::Senior),
                workplace: draw.chance(50).then_some(Workplace::Remote),
                salary,
                expires_at: draw.chance(80).then_some(1_800_000_000 + i as i64),
            }
        })
        .collect()
}
