//! An architecture drawn as a graph (SVG, with plotters): nodes left to
//! right, each edge an arc labelled with its operation, higher the farther
//! it reaches. NAS-Bench-201 cells, DARTS' normal and reduction cells, and
//! chains with their skips all fit this one layout.

use plotters::prelude::*;

use crate::space::{chain::ChainOp, darts, nb201, SearchSpace};

/// A graph to draw: node labels, and edges (from, to, label).
pub struct Graph {
    pub title: String,
    pub nodes: Vec<String>,
    pub edges: Vec<(usize, usize, String)>,
}

/// The graphs of an architecture (two for DARTS: normal and reduction).
pub fn graphs(space: &SearchSpace, genotype: &[u32]) -> Vec<Graph> {
    match space {
        SearchSpace::Nb201 => vec![Graph {
            title: "cell".into(),
            nodes: (0..4).map(|n| n.to_string()).collect(),
            edges: nb201::EDGES
                .iter()
                .zip(genotype)
                .filter(|(_, &op)| nb201::OPS[op as usize] != "none")
                .map(|(&(t, s), &op)| (s, t, nb201::OPS[op as usize].to_string()))
                .collect(),
        }],
        SearchSpace::Darts => darts::CELLS
            .iter()
            .zip(darts::cells(genotype))
            .map(|(name, edges)| {
                let mut g = Graph {
                    title: format!("{name} cell"),
                    nodes: ["c_{k-2}", "c_{k-1}", "0", "1", "2", "3", "out"].iter().map(|s| s.to_string()).collect(),
                    edges: vec![],
                };
                for (i, e) in edges.iter().enumerate() {
                    if darts::OPS[e.op] != "none" {
                        g.edges.push((e.input, i / 2 + 2, darts::OPS[e.op].to_string()));
                    }
                }
                g.edges.extend((2..6).map(|n| (n, 6, String::new())));
                g
            })
            .collect(),
        SearchSpace::Chain(c) => {
            let layers = c.layers(genotype);
            let mut g = Graph { title: c.name.clone(), nodes: vec!["stem".into()], edges: vec![] };
            for (i, l) in layers.iter().enumerate() {
                g.nodes.push(format!("L{i}"));
                let halved = if l.reduce { " /2" } else { "" };
                g.edges.push((i, i + 1, format!("{}{}", ChainOp::name(&l.op), halved)));
                g.edges.extend(l.skips.iter().map(|&j| (j + 1, i + 1, "skip".to_string())));
            }
            vec![g]
        }
        // The user's decisions have no graph nasbox knows.
        SearchSpace::Decisions(_) => vec![],
        SearchSpace::WithHp(network) => graphs(network, space.network_genotype(genotype)),
    }
}

/// The SVG of one graph.
pub fn graph_svg(g: &Graph) -> anyhow::Result<String> {
    let gap = 150i32;
    let width = (g.nodes.len() as i32 - 1) * gap + 120;
    let max_span = g.edges.iter().map(|(a, b, _)| (*b as i32 - *a as i32).abs()).max().unwrap_or(1).max(1);
    let height = 120 + max_span * 38;
    let base = height - 50;
    let x = |n: usize| 60 + n as i32 * gap;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        root.draw(&Text::new(g.title.clone(), (10, 8), ("sans-serif", 16).into_font()))?;
        for (a, b, label) in &g.edges {
            let span = (*b as i32 - *a as i32).abs();
            let lift = if span <= 1 && !label.is_empty() { 0 } else { span * 36 };
            let (x0, x1) = (x(*a), x(*b));
            // A quadratic arc from node to node, sampled as a polyline.
            let points: Vec<(i32, i32)> = (0..=24)
                .map(|k| {
                    let t = k as f64 / 24.0;
                    let px = x0 as f64 + (x1 - x0) as f64 * t;
                    let py = base as f64 - 4.0 * lift as f64 * t * (1.0 - t);
                    (px.round() as i32, py.round() as i32)
                })
                .collect();
            let colour = if label.is_empty() { RGBColor(180, 180, 180) } else { RGBColor(31, 119, 180) };
            root.draw(&PathElement::new(points, colour.stroke_width(2)))?;
            if !label.is_empty() {
                let mid = ((x0 + x1) / 2, base - lift - if lift == 0 { 18 } else { 6 });
                let style = TextStyle::from(("sans-serif", 13).into_font())
                    .pos(plotters::style::text_anchor::Pos::new(plotters::style::text_anchor::HPos::Center, plotters::style::text_anchor::VPos::Bottom));
                root.draw(&Text::new(label.clone(), mid, style))?;
            }
        }
        for (n, label) in g.nodes.iter().enumerate() {
            root.draw(&Circle::new((x(n), base), 16, ShapeStyle::from(&WHITE).filled()))?;
            root.draw(&Circle::new((x(n), base), 16, BLACK.stroke_width(2)))?;
            let style = TextStyle::from(("sans-serif", 12).into_font())
                .pos(plotters::style::text_anchor::Pos::new(plotters::style::text_anchor::HPos::Center, plotters::style::text_anchor::VPos::Center));
            root.draw(&Text::new(label.clone(), (x(n), base), style))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_draws_its_edges_with_their_operations() {
        let nb = SearchSpace::Nb201;
        let g = nb.parse("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|").unwrap();
        let graphs_nb = graphs(&nb, &g);
        assert_eq!(graphs_nb[0].edges.len(), 5, "`none` edges are not drawn");
        let svg = graph_svg(&graphs_nb[0]).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
        for op in ["nor_conv_3x3", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "0", "3"] {
            assert!(texts.contains(&op), "{op} missing: {texts:?}");
        }
        let darts = SearchSpace::Darts;
        let d = darts.sample(3, 1).unwrap().remove(0);
        let gs = graphs(&darts, &d);
        assert_eq!(gs.len(), 2);
        for graph in &gs {
            roxmltree::Document::parse(&graph_svg(graph).unwrap()).unwrap();
        }
        let chain = SearchSpace::resolve("chain").unwrap();
        let c = chain.parse("conv_3x3 | sep_conv_5x5 | max_pool_3x3 +0 | conv_5x5 +0,1 | avg_pool_3x3 | sep_conv_3x3 +2").unwrap();
        let gc = graphs(&chain, &c);
        assert_eq!(gc[0].edges.iter().filter(|e| e.2 == "skip").count(), 4);
        roxmltree::Document::parse(&graph_svg(&gc[0]).unwrap()).unwrap();
    }
}
