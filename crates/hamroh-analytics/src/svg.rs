//! Charts and the map as SVG, drawn on the server from published (disclosure-controlled) figures
//! only: bars, a line over time, and a choropleth of the regions. Every drawing carries a title as
//! its accessible name; a hidden figure is drawn as hatched or left out, never as zero.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::OnceLock;

const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const BLUE: &str = "#0b5cad";

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(svg: &mut String, w: f64, h: f64, title: &str) {
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r##"<defs><pattern id="hidden" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eaeef2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8c959f" stroke-width="2"/></pattern></defs>"##
    );
}

/// Horizontal bars, one per `(label, value)`; `None` is a hidden figure, drawn hatched.
pub fn bars(title: &str, items: &[(String, Option<f64>)], format: &dyn Fn(f64) -> String, hidden: &str) -> String {
    const W: f64 = 640.0;
    const ROW: f64 = 22.0;
    const LABEL: f64 = 250.0;
    let h = ROW * items.len().max(1) as f64 + 8.0;
    let max = items.iter().filter_map(|i| i.1).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    open(&mut svg, W, h, title);
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        // A long name is shortened on the drawing; its whole text stays in the title.
        let short: String = if label.chars().count() > 30 {
            format!("{}…", label.chars().take(29).collect::<String>())
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" font-size="12" text-anchor="end" fill="{INK}"><title>{l}</title>{s}</text>"#,
            x = LABEL - 6.0,
            ty = y + 14.0,
            l = escape(label),
            s = escape(&short)
        );
        match value {
            Some(v) => {
                let width = (W - LABEL - 70.0) * v / max;
                let _ = write!(
                    svg,
                    r#"<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{bh}" fill="{BLUE}"><title>{l}: {f}</title></rect><text x="{tx:.1}" y="{ty}" font-size="12" fill="{INK}">{f}</text>"#,
                    bh = ROW - 6.0,
                    l = escape(label),
                    f = escape(&format(*v)),
                    tx = LABEL + width + 4.0,
                    ty = y + 14.0
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<rect x="{LABEL}" y="{y}" width="40" height="{bh}" fill="url(#hidden)"><title>{l}: {s}</title></rect><text x="{tx}" y="{ty}" font-size="12" fill="{MUTED}">{s}</text>"#,
                    bh = ROW - 6.0,
                    l = escape(label),
                    s = escape(hidden),
                    tx = LABEL + 44.0,
                    ty = y + 14.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A line over periods; a hidden figure breaks the line and is marked with a hollow point.
pub fn line(title: &str, points: &[(String, Option<f64>)], format: &dyn Fn(f64) -> String) -> String {
    const W: f64 = 560.0;
    const H: f64 = 180.0;
    const PAD: f64 = 36.0;
    let max = points.iter().filter_map(|p| p.1).fold(0.0_f64, f64::max);
    let max = if max <= 0.0 { 1.0 } else { max };
    let x = |i: usize| {
        if points.len() <= 1 { W / 2.0 } else { PAD + (W - 2.0 * PAD) * i as f64 / (points.len() - 1) as f64 }
    };
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * (v / max);
    let mut svg = String::new();
    open(&mut svg, W, H, title);
    let _ = write!(
        svg,
        r#"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="{MUTED}"/><text x="2" y="{t}" font-size="10" fill="{MUTED}">{m}</text><text x="2" y="{b}" font-size="10" fill="{MUTED}">0</text>"#,
        b = H - PAD,
        r = W - PAD,
        t = PAD,
        m = escape(&format(max))
    );
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, svg: &mut String| {
        if segment.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{BLUE}" stroke-width="2" points="{}"/>"#,
                segment.join(" ")
            );
        }
        segment.clear();
    };
    let step = (points.len() / 8).max(1);
    for (i, (label, value)) in points.iter().enumerate() {
        match value {
            Some(v) => {
                segment.push(format!("{:.1},{:.1}", x(i), y(*v)));
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{BLUE}"><title>{}: {}</title></circle>"#,
                    x(i),
                    y(*v),
                    escape(label),
                    escape(&format(*v))
                );
            }
            None => {
                flush(&mut segment, &mut svg);
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="white" stroke="{MUTED}"><title>{}</title></circle>"#,
                    x(i),
                    H - PAD,
                    escape(label)
                );
            }
        }
        if i % step == 0 || i + 1 == points.len() {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="{MUTED}">{}</text>"#,
                x(i),
                H - PAD + 14.0,
                escape(label)
            );
        }
    }
    flush(&mut segment, &mut svg);
    svg.push_str("</svg>");
    svg
}

/// One bar split into parts (e.g. referral outcomes), each `(label, value, colour)`.
pub fn stacked(title: &str, parts: &[(String, Option<f64>, &str)], hidden: &str) -> String {
    const W: f64 = 560.0;
    const H: f64 = 70.0;
    let total: f64 = parts.iter().filter_map(|p| p.1).sum();
    let mut svg = String::new();
    open(&mut svg, W, H, title);
    let mut x = 0.0;
    let mut legend_x = 0.0;
    for (label, value, colour) in parts {
        let text = match value {
            Some(v) => format!("{label}: {v}"),
            None => format!("{label}: {hidden}"),
        };
        if let (Some(v), true) = (value, total > 0.0) {
            let w = W * v / total;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="4" width="{w:.1}" height="28" fill="{colour}"><title>{}</title></rect>"#,
                escape(&text)
            );
            x += w;
        }
        let _ = write!(
            svg,
            r#"<rect x="{legend_x:.1}" y="44" width="10" height="10" fill="{}"/><text x="{:.1}" y="54" font-size="11" fill="{INK}">{}</text>"#,
            if value.is_some() { colour } else { "url(#hidden)" },
            legend_x + 14.0,
            escape(&text)
        );
        legend_x += 14.0 + 7.0 * text.chars().count() as f64 + 10.0;
    }
    svg.push_str("</svg>");
    svg
}

/// A region's outline: rings of (longitude, latitude).
type Rings = Vec<Vec<(f64, f64)>>;

/// The regions' outlines as SVG path data, keyed by ISO 3166-2 code, in a 600 × 340 frame.
fn region_paths() -> &'static BTreeMap<String, String> {
    static PATHS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let geo: serde_json::Value =
            serde_json::from_str(include_str!("../../../data/boundaries/tj-admin1.geojson")).unwrap_or_default();
        let features = geo["features"].as_array().cloned().unwrap_or_default();
        let rings = |g: &serde_json::Value| -> Vec<Vec<(f64, f64)>> {
            let polygons = match g["type"].as_str() {
                Some("Polygon") => vec![g["coordinates"].clone()],
                Some("MultiPolygon") => g["coordinates"].as_array().cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            polygons
                .iter()
                .flat_map(|p| p.as_array().cloned().unwrap_or_default())
                .map(|ring| {
                    ring.as_array()
                        .map(|pts| {
                            pts.iter().filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?))).collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                })
                .collect()
        };
        let all: Vec<(String, Rings)> = features
            .iter()
            .map(|f| {
                let code = f["properties"]["iso_3166_2"].as_str().unwrap_or_default();
                let code = if code.starts_with("TJ-X01") { "TJ-RA" } else { code };
                (code.to_owned(), rings(&f["geometry"]))
            })
            .collect();
        let points = all.iter().flat_map(|(_, r)| r.iter().flatten());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        // Equirectangular, with longitude shortened by the cosine of the middle latitude.
        let squeeze = ((y0 + y1) / 2.0).to_radians().cos();
        let scale = (590.0 / ((x1 - x0) * squeeze)).min(330.0 / (y1 - y0));
        all.into_iter()
            .map(|(code, rings)| {
                let mut d = String::new();
                for ring in rings {
                    // Points closer than a pixel to the last one drawn add weight, not shape.
                    let mut last: Option<(f64, f64)> = None;
                    for (x, y) in ring.iter() {
                        let (px, py) = (5.0 + (x - x0) * squeeze * scale, 5.0 + (y1 - y) * scale);
                        if last.is_some_and(|(lx, ly): (f64, f64)| (px - lx).abs() + (py - ly).abs() < 1.0) {
                            continue;
                        }
                        let _ = write!(d, "{}{px:.0},{py:.0}", if last.is_none() { "M" } else { "L" });
                        last = Some((px, py));
                    }
                    d.push('Z');
                }
                (code, d)
            })
            .collect()
    })
}

/// A choropleth of the five regions. `values`: region code → published value (`None`: hidden).
/// `names`: region code → name. Five equal classes from zero to the largest value.
pub fn region_map(
    title: &str,
    values: &BTreeMap<String, Option<f64>>,
    names: &dyn Fn(&str) -> String,
    format: &dyn Fn(f64) -> String,
    hidden: &str,
    no_data: &str,
) -> String {
    const SHADES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
    let max = values.values().flatten().fold(0.0_f64, |a, b| a.max(*b));
    let shade = |v: f64| {
        if max <= 0.0 {
            return SHADES[0];
        }
        SHADES[((v / max * 5.0).ceil() as usize).clamp(1, 5) - 1]
    };
    let mut svg = String::new();
    open(&mut svg, 600.0, 390.0, title);
    for (code, d) in region_paths() {
        let name = names(code);
        let (fill, text) = match values.get(code) {
            Some(Some(v)) => (shade(*v), format!("{name}: {}", format(*v))),
            Some(None) => ("url(#hidden)", format!("{name}: {hidden}")),
            None => ("#ffffff", format!("{name}: {no_data}")),
        };
        let _ = write!(
            svg,
            r#"<path d="{d}" fill="{fill}" stroke="{INK}" stroke-width="0.8" data-region="{code}"><title>{}</title></path>"#,
            escape(&text)
        );
    }
    // Legend: the classes' upper bounds, and the hatching for hidden figures.
    for (i, colour) in SHADES.iter().enumerate() {
        let x = 10.0 + 95.0 * i as f64;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="350" width="14" height="14" fill="{colour}" stroke="{MUTED}"/><text x="{}" y="362" font-size="11" fill="{INK}">≤ {}</text>"#,
            x + 18.0,
            escape(&format(max * (i + 1) as f64 / 5.0))
        );
    }
    let _ = write!(
        svg,
        r#"<rect x="485" y="350" width="14" height="14" fill="url(#hidden)" stroke="{MUTED}"/><text x="503" y="362" font-size="11" fill="{INK}">{}</text>"#,
        escape(hidden)
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_has_the_five_regions_and_never_draws_a_hidden_figure_as_a_value() {
        assert_eq!(
            region_paths().keys().map(String::as_str).collect::<Vec<_>>(),
            ["TJ-DU", "TJ-GB", "TJ-KT", "TJ-RA", "TJ-SU"]
        );
        let values = BTreeMap::from([("TJ-KT".to_owned(), Some(12.0)), ("TJ-GB".to_owned(), None)]);
        let svg = region_map("Map", &values, &|c| c.to_owned(), &|v| v.to_string(), "hidden", "no data");
        assert!(svg.contains("TJ-KT: 12") && svg.contains("TJ-GB: hidden") && svg.contains("TJ-DU: no data"));
    }
}
