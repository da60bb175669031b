//! Bar charts drawn as SVG on the server (the calls-per-day chart and the duration histogram).
//!
//! [`layout`] is pure geometry — where each bar, tick and label goes in a fixed view box — and
//! is unit-tested; [`BarChart`] only turns that geometry into elements. The SVG scales to its
//! container's width through its `viewBox`, so one drawing serves phones and desktops.

use leptos::prelude::*;

/// The view box the charts are drawn in; the SVG scales it to the container.
pub const WIDTH: f64 = 480.0;
/// The view box height.
pub const HEIGHT: f64 = 200.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 36.0;
/// The share of a bar's slot the bar fills.
const FILL: f64 = 0.7;

/// One bar's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The label under the bar.
    pub label: String,
    /// What the bar says in full (its tooltip and accessible name).
    pub title: String,
    /// Its value (counts: 0 or more).
    pub value: f64,
}

/// Where one bar goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBar {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height (0 for a zero value).
    pub height: f64,
    /// Centre of the label under it.
    pub label_x: f64,
    /// The label.
    pub label: String,
    /// The full title.
    pub title: String,
}

/// A y-axis tick: a grid line and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Its height in the view box.
    pub y: f64,
    /// The value it marks.
    pub label: String,
}

/// A chart's geometry in the [`WIDTH`] × [`HEIGHT`] view box.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The bars, left to right.
    pub bars: Vec<PlacedBar>,
    /// The ticks, from 0 upwards.
    pub ticks: Vec<Tick>,
    /// The value at the top of the axis.
    pub axis_max: f64,
}

/// The y-axis step for values up to `max`: 1, 2 or 5 × 10ⁿ, at least 1 (the charts count
/// calls), giving at most 5 steps.
pub fn nice_step(max: f64) -> f64 {
    let rough = (max / 5.0).max(1.0);
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// Lays out `bars` in the view box: heights proportional to the values against an axis rounded
/// up to a whole step, bars evenly spaced and centred in their slots.
pub fn layout(bars: &[Bar]) -> Layout {
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let max = bars
        .iter()
        .map(|b| b.value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let step = nice_step(max);
    let axis_max = ((max / step).ceil() * step).max(step);
    let baseline = TOP + plot_height;
    let ticks = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= axis_max + step / 2.0)
        .map(|v| Tick {
            y: baseline - v / axis_max * plot_height,
            label: format!("{v}"),
        })
        .collect();
    let slot = if bars.is_empty() {
        0.0
    } else {
        plot_width / bars.len() as f64
    };
    let bars = bars
        .iter()
        .enumerate()
        .map(|(i, bar)| {
            let value = if bar.value.is_finite() {
                bar.value.max(0.0)
            } else {
                0.0
            };
            let height = value / axis_max * plot_height;
            let x = LEFT + i as f64 * slot;
            PlacedBar {
                x: x + slot * (1.0 - FILL) / 2.0,
                y: baseline - height,
                width: slot * FILL,
                height,
                label_x: x + slot / 2.0,
                label: bar.label.clone(),
                title: bar.title.clone(),
            }
        })
        .collect();
    Layout {
        bars,
        ticks,
        axis_max,
    }
}

/// A bar chart with a y axis, labels under the bars, and an accessible title and description.
#[component]
pub fn BarChart(
    /// A unique id (the title and description are referenced by it).
    id: &'static str,
    /// What the chart shows: its accessible name.
    title: String,
    /// A sentence summing it up for screen readers.
    description: String,
    /// What the x axis measures.
    x_label: &'static str,
    /// What the y axis counts.
    y_label: &'static str,
    /// The bars.
    bars: Vec<Bar>,
) -> impl IntoView {
    let Layout { bars, ticks, .. } = layout(&bars);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let labelled_by = format!("{title_id} {desc_id}");
    let baseline = HEIGHT - BOTTOM;
    view! {
        <svg
            id=id
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-labelledby=labelled_by
            class="h-auto w-full overflow-visible text-slate-500"
            preserveAspectRatio="xMidYMid meet"
        >
            <title id=title_id>{title}</title>
            <desc id=desc_id>{description}</desc>
            <g aria-hidden="true">
                {ticks
                    .into_iter()
                    .map(|tick| {
                        view! {
                            <line x1=LEFT x2=WIDTH - RIGHT y1=tick.y y2=tick.y class="stroke-slate-200" stroke-width="1" />
                            <text x=LEFT - 6.0 y=tick.y + 4.0 text-anchor="end" class="fill-slate-500" font-size="11">{tick.label}</text>
                        }
                    })
                    .collect_view()}
                <line x1=LEFT x2=WIDTH - RIGHT y1=baseline y2=baseline class="stroke-slate-400" stroke-width="1" />
                <text x=LEFT + (WIDTH - LEFT - RIGHT) / 2.0 y=HEIGHT - 2.0 text-anchor="middle" class="fill-slate-500" font-size="11">{x_label}</text>
                <text x="10" y=TOP + (HEIGHT - TOP - BOTTOM) / 2.0 text-anchor="middle" class="fill-slate-500" font-size="11" transform=format!("rotate(-90 10 {})", TOP + (HEIGHT - TOP - BOTTOM) / 2.0)>{y_label}</text>
            </g>
            {bars
                .into_iter()
                .map(|bar| {
                    view! {
                        <g>
                            <rect x=bar.x y=bar.y width=bar.width height=bar.height rx="2" class="fill-indigo-500">
                                <title>{bar.title.clone()}</title>
                            </rect>
                            <text x=bar.label_x y=baseline + 14.0 text-anchor="middle" class="fill-slate-600" font-size="11" aria-hidden="true">{bar.label}</text>
                        </g>
                    }
                })
                .collect_view()}
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(values: &[f64]) -> Vec<Bar> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Bar {
                label: format!("d{i}"),
                title: format!("day {i}: {v}"),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(3.0), 1.0);
        assert_eq!(nice_step(7.0), 2.0);
        assert_eq!(nice_step(23.0), 5.0);
        assert_eq!(nice_step(40.0), 10.0);
        assert_eq!(nice_step(420.0), 100.0);
        assert_eq!(nice_step(1200.0), 500.0);
    }

    #[test]
    fn bar_heights_are_proportional_to_values_against_a_rounded_axis() {
        let layout = layout(&bars(&[2.0, 7.0, 0.0, 4.0]));
        assert_eq!(layout.axis_max, 8.0);
        let plot = HEIGHT - TOP - BOTTOM;
        let heights: Vec<f64> = layout.bars.iter().map(|b| b.height).collect();
        assert_eq!(heights, [plot / 4.0, plot * 7.0 / 8.0, 0.0, plot / 2.0]);
        for bar in &layout.bars {
            // Every bar stands on the baseline.
            assert!((bar.y + bar.height - (HEIGHT - BOTTOM)).abs() < 1e-9);
        }
    }

    #[test]
    fn bars_are_evenly_spaced_inside_the_plot_with_their_labels_centred() {
        let layout = layout(&bars(&[1.0, 1.0, 1.0]));
        let slot = (WIDTH - LEFT - RIGHT) / 3.0;
        for (i, bar) in layout.bars.iter().enumerate() {
            assert!((bar.label_x - (LEFT + slot * (i as f64 + 0.5))).abs() < 1e-9);
            assert!((bar.x + bar.width / 2.0 - bar.label_x).abs() < 1e-9);
            assert_eq!(bar.label, format!("d{i}"));
        }
        let last = layout.bars.last().unwrap();
        assert!(last.x + last.width <= WIDTH - RIGHT);
        assert!(layout.bars[0].x >= LEFT);
    }

    #[test]
    fn ticks_run_from_zero_to_the_axis_top() {
        let layout = layout(&bars(&[7.0]));
        let labels: Vec<&str> = layout.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8"]);
        assert_eq!(layout.ticks[0].y, HEIGHT - BOTTOM);
        assert_eq!(layout.ticks.last().unwrap().y, TOP);
    }

    #[test]
    fn empty_or_all_zero_data_draws_an_axis_and_flat_bars() {
        let empty = layout(&[]);
        assert!(empty.bars.is_empty());
        assert_eq!(empty.axis_max, 1.0);
        assert_eq!(empty.ticks.len(), 2);

        let zeros = layout(&bars(&[0.0, 0.0]));
        assert!(
            zeros
                .bars
                .iter()
                .all(|b| b.height == 0.0 && b.y == HEIGHT - BOTTOM)
        );
        let odd = layout(&bars(&[f64::NAN, -3.0, 2.0]));
        assert_eq!(odd.bars[0].height, 0.0);
        assert_eq!(odd.bars[1].height, 0.0);
        assert!(odd.bars[2].height > 0.0);
    }
}
