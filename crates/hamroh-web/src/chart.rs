//! Small server-rendered SVG charts: a score over time, drawn without JavaScript, readable in
//! print, with a text alternative.

use std::fmt::Write;

/// A line chart of `(label, value)` points on a fixed scale `min..=max`, with the cut-off (if any)
/// drawn as a dashed line. The title doubles as the accessible name.
pub fn score_line(title: &str, points: &[(String, i64)], min: i64, max: i64, cutoff: Option<i64>) -> String {
    const W: f64 = 320.0;
    const H: f64 = 90.0;
    const PAD: f64 = 18.0;
    let span = (max - min).max(1) as f64;
    let x = |i: usize| {
        if points.len() <= 1 { W / 2.0 } else { PAD + (W - 2.0 * PAD) * i as f64 / (points.len() - 1) as f64 }
    };
    let y = |v: i64| H - PAD - (H - 2.0 * PAD) * ((v - min) as f64 / span);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ =
        write!(svg, r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#57606a"/>"##, b = H - PAD, r = W - PAD);
    let _ = write!(
        svg,
        r##"<text x="2" y="{}" font-size="10" fill="#57606a">{max}</text><text x="2" y="{}" font-size="10" fill="#57606a">{min}</text>"##,
        PAD + 3.0,
        H - PAD
    );
    if let Some(c) = cutoff.filter(|c| (min..=max).contains(c)) {
        let _ = write!(
            svg,
            r##"<line x1="{PAD}" y1="{cy}" x2="{r}" y2="{cy}" stroke="#b3261e" stroke-dasharray="4 3"/>"##,
            cy = y(c),
            r = W - PAD
        );
    }
    let path: Vec<String> = points.iter().enumerate().map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v))).collect();
    let _ = write!(svg, r##"<polyline fill="none" stroke="#0b5cad" stroke-width="2" points="{}"/>"##, path.join(" "));
    for (i, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#0b5cad"><title>{}: {v}</title></circle>"##,
            x(i),
            y(*v),
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_has_a_point_per_value_and_an_accessible_name() {
        let svg = super::score_line(
            "PHQ-9 <over time>",
            &[("2026-01-01".into(), 4), ("2026-03-01".into(), 12)],
            0,
            27,
            Some(10),
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("aria-label=\"PHQ-9 &lt;over time&gt;\""));
        assert!(svg.contains("stroke-dasharray"), "the cut-off line");
    }
}
