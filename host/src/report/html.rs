//! A self-contained HTML report (inline SVG, no scripts, no network), kept
//! well-formed XML so any parser reads it.

use super::compare::{Pair, Row};

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The head of a report page, its title and the table of what was run;
/// `style` adds to the shared style sheet.
fn page_start(title: &str, setup: &[(String, String)], style: &str) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
    h.push_str(&format!("<title>{}</title>", escape(title)));
    h.push_str("<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}th{background:#f4f4f4}");
    h.push_str(style);
    h.push_str(&format!("</style></head><body><h1>{}</h1><table>", escape(title)));
    for (k, v) in setup {
        h.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)));
    }
    h.push_str("</table>");
    h
}

/// The comparison report: what was run, the plots, the final table and
/// the pairwise tests.
pub fn comparison(title: &str, setup: &[(String, String)], plots: &[String], rows: &[Row], pairs: &[Pair], score: &str) -> String {
    let mut h = page_start(title, setup, "td,th{text-align:right}td:first-child,th:first-child{text-align:left}.sig{font-weight:bold}");
    for svg in plots {
        h.push_str("<div class=\"plot\">");
        // plotters writes an XML declaration-free <svg> element: inline it.
        h.push_str(svg.trim());
        h.push_str("</div>");
    }
    let row = |cells: &[String], tag: &str| cells.iter().map(|c| format!("<{tag}>{}</{tag}>", escape(c))).collect::<String>();
    h.push_str(&format!("<h2>Final results</h2><table><tr>{}</tr>", row(&Row::header(score), "th")));
    for r in rows {
        h.push_str(&format!("<tr>{}</tr>", row(&r.cells(), "td")));
    }
    h.push_str("</table><h2>Pairwise tests</h2><p>Two-sided Mann–Whitney U on the final scores, p adjusted for the number of pairs (Holm–Bonferroni); bold: p<sub>Holm</sub> &lt; 0.05.</p><table><tr><th>pair</th><th>U</th><th>p</th><th>p (Holm)</th></tr>");
    for p in pairs {
        let class = if p.p_holm < 0.05 { " class=\"sig\"" } else { "" };
        h.push_str(&format!("<tr{class}><td>{} vs {}</td><td>{:.1}</td><td>{:.3e}</td><td>{:.3e}</td></tr>", escape(&p.a), escape(&p.b), p.u, p.p, p.p_holm));
    }
    h.push_str("</table></body></html>\n");
    h
}

/// A multi-objective run's Pareto front for [`search`]: the objectives'
/// names and, per front trial, `(trial, values as measured, arch)`.
pub struct Front {
    pub objectives: Vec<String>,
    pub rows: Vec<(u64, Vec<f64>, String)>,
}

/// The report of one search: setup, plots (SVG documents), the best
/// architecture's drawing and the leaderboard `(trial, objective, arch)`.
pub fn search(title: &str, setup: &[(String, String)], plots: &[String], cells: &[String], top: &[(u64, f64, String)]) -> String {
    search_with_front(title, setup, plots, cells, top, None)
}

/// [`search`], with a multi-objective run's Pareto front listed after the plots.
pub fn search_with_front(
    title: &str,
    setup: &[(String, String)],
    plots: &[String],
    cells: &[String],
    top: &[(u64, f64, String)],
    front: Option<&Front>,
) -> String {
    let mut h = page_start(title, setup, "td,th{text-align:left}code{font-size:90%}");
    h.push_str("<h2>The best architecture</h2>");
    for svg in cells {
        h.push_str(&format!("<div class=\"cell\">{}</div>", svg.trim()));
    }
    h.push_str("<h2>The search</h2>");
    for svg in plots {
        h.push_str(&format!("<div class=\"plot\">{}</div>", svg.trim()));
    }
    if let Some(f) = front {
        h.push_str(&format!("<h2>Pareto front ({} trials)</h2><table class=\"front\"><tr><th>trial</th>", f.rows.len()));
        for o in &f.objectives {
            h.push_str(&format!("<th>{}</th>", escape(o)));
        }
        h.push_str("<th>architecture</th></tr>");
        for (id, values, arch) in &f.rows {
            h.push_str(&format!("<tr><td>{id}</td>"));
            for v in values {
                h.push_str(&format!("<td>{v}</td>"));
            }
            h.push_str(&format!("<td><code>{}</code></td></tr>", escape(arch)));
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Leaderboard</h2><table><tr><th>trial</th><th>objective</th><th>architecture</th></tr>");
    for (id, objective, arch) in top {
        h.push_str(&format!("<tr><td>{id}</td><td>{objective:.4}</td><td><code>{}</code></td></tr>", escape(arch)));
    }
    h.push_str("</table></body></html>\n");
    h
}
