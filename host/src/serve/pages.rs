//! The HTML pages. The runs and run pages are shells their scripts fill
//! from the JSON endpoints (and keep filling while a run goes on); the
//! bench and compare pages are drawn here, once per request.

use super::http::encode;
use super::view::View;
use crate::report::compare::{Band, Pair, Row};
use crate::report::html::{self, escape};
use crate::report::plot;

/// A page with the dashboard's navigation, style sheet and scripts.
fn shell(title: &str, body: &str, scripts: &[&str]) -> String {
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"/></head><body><nav><a href=\"/\">Runs</a> <a href=\"/compare\">Compare</a> <span class=\"brand\">nasbox serve</span></nav>",
        escape(title)
    );
    h.push_str(body);
    for s in scripts {
        h.push_str(&format!("<script src=\"/assets/{s}\"></script>"));
    }
    h.push_str("</body></html>\n");
    h
}

/// A name's URL path: each segment encoded.
pub fn href(prefix: &str, name: &str) -> String {
    format!("{prefix}/{}", name.split('/').map(encode).collect::<Vec<_>>().join("/"))
}

/// Every run and bench (filled by `runs.js`).
pub fn runs() -> String {
    shell(
        "nasbox runs",
        "<h1>Runs</h1><p id=\"updated\" class=\"muted\">loading…</p><table id=\"runs\" class=\"grid\"><thead><tr><th>run</th><th>status</th><th>strategy</th><th>space</th><th>estimator</th><th>trials</th><th>best so far</th><th>elapsed</th></tr></thead><tbody></tbody></table><h2>Benches</h2><ul id=\"benches\"></ul>",
        &["common.js", "runs.js"],
    )
}

/// One run (filled and kept up to date by `run.js`).
pub fn run(name: &str) -> String {
    let body = format!(
        "<h1>Run {name_html}</h1><main id=\"run\" data-api=\"{api}\" data-plots=\"{plots}\" data-log=\"{log}\">\
<table id=\"summary\" class=\"kv\"></table>\
<section class=\"plots\"><div id=\"plot-best\" class=\"plot\"></div><div id=\"plot-params\" class=\"plot\"></div><div id=\"plot-flops\" class=\"plot\"></div><div id=\"plot-curves\" class=\"plot\"></div></section>\
<h2>The best architecture</h2><div id=\"cells\"></div>\
<h2>Trials</h2><div class=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"filter: architecture, reason, trial\"/> <select id=\"status-filter\"><option value=\"\">every status</option><option>ok</option><option>failed</option><option>invalid</option><option>pending</option></select> <button id=\"prev\" type=\"button\">◀ previous</button> <button id=\"next\" type=\"button\">next ▶</button> <span id=\"shown\" class=\"muted\"></span></div>\
<table id=\"trials\" class=\"grid\"><thead><tr><th data-key=\"id\">trial</th><th data-key=\"status\">status</th><th data-key=\"objective\">objective</th><th data-key=\"cost\">cost s</th><th data-key=\"params\">params</th><th data-key=\"flops\">FLOPs</th><th data-key=\"fidelity\">fidelity</th><th data-key=\"arch\">architecture / reason</th></tr></thead><tbody></tbody></table>\
<h2>Strategy log</h2><pre id=\"log\" class=\"log\"></pre></main>",
        name_html = escape(name),
        api = escape(&href("/api/run", name)),
        plots = escape(&href("/api/plots", name)),
        log = escape(&href("/api/log", name)),
    );
    shell(&format!("nasbox — {name}"), &body, &["common.js", "run.js"])
}

/// A bench folder: its anytime curves, final table and pairwise tests, as
/// `nasbox bench` wrote them into `summary.json`, drawn as its report is.
pub fn bench(name: &str, summary: &serde_json::Value) -> anyhow::Result<String> {
    let rows: Vec<Row> = serde_json::from_value(summary["rows"].clone())?;
    let pairs: Vec<Pair> = serde_json::from_value(summary["pairs"].clone())?;
    let score = summary["score"].as_str().unwrap_or("score");
    let mut plots = vec![];
    let runs = summary["runs"].as_object().cloned().unwrap_or_default();
    // A multi-objective bench (`--objectives`) keeps each seed's hypervolume where the incumbent's accuracy would be.
    let first = if score == "hypervolume" {
        ("valid", "Hypervolume of the front so far (mean, 95% band)", "hypervolume (fraction of the table front's)")
    } else {
        ("valid", "Best found so far (mean, 95% band)", "validation accuracy of the incumbent")
    };
    for (key, title, y) in [first, ("test", "Test accuracy of the incumbent", "test accuracy")] {
        let bands: Vec<(String, Vec<f64>, Band)> = runs
            .iter()
            .map(|(strategy, seeds)| {
                let curves: Vec<Vec<f64>> = seeds.as_array().map_or(vec![], |s| {
                    s.iter().map(|a| a[key].as_array().map_or(vec![], |c| c.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())).collect()
                });
                let band = Band::of(&curves);
                ((strategy.clone()), (1..=band.mean.len()).map(|i| i as f64).collect(), band)
            })
            .collect();
        let series: Vec<plot::Series<'_>> = bands.iter().map(|(n, x, b)| plot::Series { name: n, x, band: b }).collect();
        if let Ok(svg) = plot::anytime_svg(title, "trials", y, &series, false) {
            plots.push(svg);
        }
    }
    let setup = vec![("bench".to_string(), name.to_string()), ("strategies".into(), runs.keys().cloned().collect::<Vec<_>>().join(", "))];
    let page = html::comparison(&format!("nasbox bench — {name}"), &setup, &plots, &rows, &pairs, score);
    // The report's page, with the dashboard's way back.
    Ok(page.replacen("<body>", "<body><nav><a href=\"/\">Runs</a> <a href=\"/compare\">Compare</a></nav>", 1))
}

/// Several runs' best-so-far curves on one plot, and the form to choose them.
pub fn compare(all: &[&str], chosen: &[(String, std::sync::Arc<View>)]) -> String {
    let mut body = String::from("<h1>Compare runs</h1><form method=\"get\" action=\"/compare\" id=\"choose\"><fieldset><legend>Runs</legend>");
    for name in all {
        let checked = if chosen.iter().any(|(n, _)| n == name) { " checked=\"checked\"" } else { "" };
        body.push_str(&format!("<label><input type=\"checkbox\" name=\"run\" value=\"{0}\"{checked}/> {0}</label> ", escape(name)));
    }
    body.push_str("</fieldset><button type=\"submit\">Compare</button></form>");
    let curves: Vec<(&str, Vec<f64>)> = chosen.iter().map(|(n, v)| (n.as_str(), v.best_so_far())).collect();
    match super::plots::best_curve_svg("Best found so far", &curves) {
        Some(svg) => body.push_str(&format!("<div id=\"compare-plot\" class=\"plot\">{}</div>", svg.trim())),
        None => body.push_str("<p class=\"muted\">Choose runs with finished trials to see their best-so-far curves together.</p>"),
    }
    body.push_str("<table class=\"grid\"><thead><tr><th>run</th><th>status</th><th>strategy</th><th>trials</th><th>best</th></tr></thead><tbody>");
    for (name, v) in chosen {
        let s = &v.summary;
        body.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&href("/run", name)),
            escape(name),
            s.status,
            escape(&s.strategy),
            s.trials,
            s.best.map_or("—".into(), |b| format!("{b:.4}"))
        ));
    }
    body.push_str("</tbody></table>");
    shell("nasbox — compare", &body, &[])
}
