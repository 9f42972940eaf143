//! Anytime plots as SVG text, drawn with plotters: one line per strategy
//! (the mean over seeds) inside its 95% band.

use plotters::prelude::*;

use super::compare::Band;

/// One strategy's curve.
pub struct Series<'a> {
    pub name: &'a str,
    pub x: &'a [f64],
    pub band: &'a Band,
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A line plot of `series` as an SVG document; `log_x` for time axes.
pub fn anytime_svg(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>], log_x: bool) -> anyhow::Result<String> {
    let finite = |v: &&f64| v.is_finite();
    let xs = || series.iter().flat_map(|s| s.x.iter()).filter(finite).copied();
    let ys = || series.iter().flat_map(|s| s.band.lo.iter().chain(&s.band.hi)).filter(finite).copied();
    let (x0, x1) = (xs().fold(f64::INFINITY, f64::min), xs().fold(f64::NEG_INFINITY, f64::max));
    let (y0, y1) = (ys().fold(f64::INFINITY, f64::min), ys().fold(f64::NEG_INFINITY, f64::max));
    anyhow::ensure!(x0.is_finite() && y0.is_finite(), "{title}: nothing to plot");
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let (y0, y1) = (y0 - pad, y1 + pad);
    framed(title, |builder| {
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart.configure_mesh().x_desc(x_label).y_desc(y_label).light_line_style(WHITE.mix(0.0)).draw()?;
                for (k, s) in series.iter().enumerate() {
                    let colour = COLOURS[k % COLOURS.len()];
                    let points = |v: &[f64]| {
                        s.x.iter().zip(v).filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_x || **x > 0.0)).map(|(x, y)| (*x, *y)).collect::<Vec<_>>()
                    };
                    let (lo, hi) = (points(&s.band.lo), points(&s.band.hi));
                    let polygon: Vec<(f64, f64)> = lo.iter().chain(hi.iter().rev()).copied().collect();
                    if polygon.len() > 2 {
                        chart.draw_series(std::iter::once(Polygon::new(polygon, colour.mix(0.18))))?;
                    }
                    chart
                        .draw_series(LineSeries::new(points(&s.band.mean), colour.stroke_width(2)))?
                        .label(s.name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
                }
                chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
            }};
        }
        if log_x {
            let lo = xs().filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
            draw!(builder.build_cartesian_2d((lo..x1.max(lo * 1.01)).log_scale(), y0..y1)?);
        } else {
            draw!(builder.build_cartesian_2d(x0..x1.max(x0 + 1.0), y0..y1)?);
        }
        Ok(())
    })
}

/// An 820×460 SVG chart with a title: `draw` builds the axes and series.
fn framed(title: &str, draw: impl FnOnce(&mut ChartBuilder<'_, '_, SVGBackend<'_>>) -> anyhow::Result<()>) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (820, 460)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 20)).margin(12).x_label_area_size(40).y_label_area_size(60);
        draw(&mut builder)?;
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_well_formed_svg_with_one_path_per_strategy() {
        let band = |m: f64| Band { mean: vec![m, m + 0.1, m + 0.2], lo: vec![m - 0.05; 3], hi: vec![m + 0.25; 3] };
        let (a, b) = (band(0.5), band(0.6));
        let x = [1.0, 2.0, 3.0];
        let series = [Series { name: "random", x: &x, band: &a }, Series { name: "evolution", x: &x, band: &b }];
        for log_x in [false, true] {
            let svg = anytime_svg("best so far", "trials", "validation accuracy", &series, log_x).unwrap();
            let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
            assert!(doc.root_element().has_tag_name("svg"));
            let texts: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
            assert!(texts.contains(&"random") && texts.contains(&"evolution"), "legend: {texts:?}");
            for colour in ["#1F77B4", "#FF7F0E"] {
                let lines = doc.descendants().filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(colour)).count();
                assert_eq!(lines, 2, "{colour}: a mean line and a legend mark per strategy");
            }
            assert_eq!(doc.descendants().filter(|n| n.has_tag_name("polygon")).count(), 2, "a band per strategy");
        }
        assert!(anytime_svg("empty", "x", "y", &[], false).is_err());
    }
}

/// The points on the Pareto front of (cost, accuracy): no other point is
/// at most as costly and more accurate. Sorted by cost.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut front: Vec<(f64, f64)> = vec![];
    for p in sorted {
        if front.last().is_none_or(|last| p.1 > last.1) {
            front.push(p);
        }
    }
    front
}

/// A scatter of architectures (cost against accuracy) with the Pareto
/// front drawn as a step line; `log_x` for params and FLOPs.
pub fn scatter_svg(title: &str, x_label: &str, y_label: &str, points: &[(f64, f64)], log_x: bool) -> anyhow::Result<String> {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_x || *x > 0.0)).collect();
    anyhow::ensure!(!pts.is_empty(), "{title}: nothing to plot");
    let (x0, x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    // A log axis within one decade gets no tick labels: keep it linear then.
    let log_x = log_x && x1 > 10.0 * x0;
    let front = pareto_front(&pts);
    let steps: Vec<(f64, f64)> = front.windows(2).flat_map(|w| [w[0], (w[1].0, w[0].1)]).chain(front.last().copied()).collect();
    framed(title, |builder| {
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart.configure_mesh().x_desc(x_label).y_desc(y_label).light_line_style(WHITE.mix(0.0)).draw()?;
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, COLOURS[0].mix(0.6).filled())))?
                    .label("architectures")
                    .legend(|(x, y)| Circle::new((x + 9, y), 3, COLOURS[0].filled()));
                chart
                    .draw_series(LineSeries::new(steps.clone(), COLOURS[3].stroke_width(2)))?
                    .label("Pareto front")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[3].stroke_width(2)));
                chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
            }};
        }
        if log_x {
            draw!(builder.build_cartesian_2d((x0..x1.max(x0 * 1.01)).log_scale(), (y0 - pad)..(y1 + pad))?);
        } else {
            draw!(builder.build_cartesian_2d(x0..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))?);
        }
        Ok(())
    })
}

/// A multi-objective run's trials in two of its objectives, as measured
/// (`all`), with its Pareto front (`front`) marked; `steps` joins the front
/// as a staircase (exactly two objectives, `x_better_larger` saying which
/// way x improves); `log_x` when x spans more than a decade.
pub fn front_svg(
    title: &str,
    x_label: &str,
    y_label: &str,
    all: &[(f64, f64)],
    front: &[(f64, f64)],
    steps: Option<bool>,
    log_x: bool,
) -> anyhow::Result<String> {
    let ok = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite() && (!log_x || p.0 > 0.0);
    let pts: Vec<(f64, f64)> = all.iter().filter(ok).copied().collect();
    let mut marked: Vec<(f64, f64)> = front.iter().filter(ok).copied().collect();
    anyhow::ensure!(!pts.is_empty(), "{title}: nothing to plot");
    let (x0, x1) = pts.iter().chain(&marked).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pts.iter().chain(&marked).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let log_x = log_x && x1 > 10.0 * x0;
    marked.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Between two front points the staircase keeps the y of the one that is
    // better along x's direction until x reaches the other.
    let stairs: Vec<(f64, f64)> = match steps {
        Some(larger_x_better) => marked
            .windows(2)
            .flat_map(|w| if larger_x_better { [w[0], (w[0].0, w[1].1)] } else { [w[0], (w[1].0, w[0].1)] })
            .chain(marked.last().copied())
            .collect(),
        None => vec![],
    };
    framed(title, |builder| {
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart.configure_mesh().x_desc(x_label).y_desc(y_label).light_line_style(WHITE.mix(0.0)).draw()?;
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, COLOURS[0].mix(0.5).filled())))?
                    .label("trials")
                    .legend(|(x, y)| Circle::new((x + 9, y), 3, COLOURS[0].filled()));
                if stairs.len() > 1 {
                    chart.draw_series(LineSeries::new(stairs.clone(), COLOURS[3].stroke_width(2)))?;
                }
                chart
                    .draw_series(marked.iter().map(|&p| Circle::new(p, 5, COLOURS[3].filled())))?
                    .label("Pareto front")
                    .legend(|(x, y)| Circle::new((x + 9, y), 5, COLOURS[3].filled()));
                chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
            }};
        }
        if log_x {
            draw!(builder.build_cartesian_2d((x0..x1.max(x0 * 1.01)).log_scale(), (y0 - pad)..(y1 + pad))?);
        } else {
            draw!(builder.build_cartesian_2d(x0..x1.max(x0 + 1e-9), (y0 - pad)..(y1 + pad))?);
        }
        Ok(())
    })
}

#[cfg(test)]
mod front_tests {
    use super::*;

    #[test]
    fn the_front_plot_marks_the_front_points() {
        let all = [(1.0, 0.5), (2.0, 0.7), (2.0, 0.4), (3.0, 0.9)];
        let front = [(1.0, 0.5), (2.0, 0.7), (3.0, 0.9)];
        let svg = front_svg("front", "params", "accuracy", &all, &front, Some(false), false).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let big = doc.descendants().filter(|n| n.has_tag_name("circle") && n.attribute("r") == Some("5")).count();
        assert_eq!(big, front.len() + 1, "the front's points and a legend mark");
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("circle")).count(), all.len() + front.len() + 2);
        assert!(doc.descendants().any(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#D62728")), "the staircase");
        assert!(front_svg("empty", "x", "y", &[], &[], None, false).is_err());
    }

    #[test]
    fn the_pareto_front_keeps_the_undominated_points() {
        let pts = [(3.0, 0.9), (1.0, 0.5), (2.0, 0.4), (2.0, 0.7), (4.0, 0.85), (5.0, 0.95)];
        assert_eq!(pareto_front(&pts), vec![(1.0, 0.5), (2.0, 0.7), (3.0, 0.9), (5.0, 0.95)]);
        let svg = scatter_svg("acc vs params", "params", "accuracy", &pts, true).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("circle")).count(), pts.len() + 1, "the points and a legend mark");
    }
}
