"""What a stakeholder reads: formatted values, escaped plain-language text and Great Tables tables.

Analyses return tidy DataFrames of raw floats; this module alone turns them into words and cells. Three
layers, each built on the one before:

1. **Formatting rules** (pure functions, usable anywhere): :func:`share` ("63%"), :func:`points`
   ("+13.2"), :func:`pp` ("+1.7 pp"), :func:`lift` ("+16.6%"), :func:`count` ("1,234"), :func:`number`,
   :func:`money`, :func:`duration` ("45 min", "6.1 h", "2.3 days"), :func:`p_value` ("< 0.001"),
   :func:`date`, :func:`yes_no`, :func:`interval` ("63% (57–69%)", "+13.2 (+3.2 to +23.1)") and
   :func:`label` (``in_app`` -> "In-app"). Missing, NaN, infinite or suppressed values become "—"; the
   output never contains NaN, None, True, False, NaT or scientific notation.
2. **Escaped text**: :func:`text` fills a trusted HTML template with values that are HTML-escaped by
   construction (``markupsafe.Markup.format``) and returns :class:`Text`, a ``Markup`` string that
   notebooks display as HTML (``_repr_html_``). A segment value, variant name, driver label, stage or
   comment is data, never markup: ``<script>`` or ``**bold**`` in a value is shown literally.
   :func:`paragraph`, :func:`bullets`, :func:`answer` and :func:`key_figures` build on it; the
   ``*_summary`` functions are the plain-language answers behind each analysis' ``summarize``.
3. **Tables**: :func:`table` renders a DataFrame with Great Tables (no index, human headers, merged
   "estimate (low–high)" cells, "—" for suppressed rows, text escaped, wraps on a 390 px phone); one
   ``*_table`` helper per result of the analyses builds on it.

Examples
--------
>>> from cxlib import present
>>> present.share(0.634), present.points(13.16), present.p_value(1.45e-15)
('63%', '+13.2', '< 0.001')
>>> present.interval(0.63, 0.57, 0.69, kind="share")
'63% (57–69%)'
>>> str(present.text("Plan <strong>{plan}</strong>", plan="<b>pro</b>"))
'Plan <strong>&lt;b&gt;pro&lt;/b&gt;</strong>'
"""
from __future__ import annotations

from markupsafe import escape

from cxlib.present.format import (  # noqa: F401
    CI_NOTE, MINUS, MISSING, ROLES, SUPPRESSED_NOTE, count,
    date, duration, format_value, interval, interval_range, label,
    lift, money, number, p_value, points, pp,
    share, yes_no,
)
from cxlib.present.text import (  # noqa: F401
    Figure, NOTE_TEXT, Text, answer, bullets, change_sentence,
    contents, data_notes, figure, headline_frame, key_figures, missing_section, note_text,
    paragraph, rows_after_as_of_words, text,
)
from cxlib.present.tables import (  # noqa: F401
    NOT_INTERPRETABLE, NOT_MEASURED, churn_table, close_the_loop_table, drivers_table, experiment_table,
    funnel_table, headline_figures, headline_table, lifetime_table, response_times_table, retention_curve_table,
    retention_table, rising_themes_table, score_table, segment_table, srm_table, stage_table,
    support_changes_table, table, target_attainment_table, theme_impact_table, themes_table,
)
from cxlib.present.cohort_retention import (  # noqa: F401
    COHORT_TOUCH_WORDS, churn_method, churn_summary, cohort_cox_answer, cohort_cox_table, cohort_first_value_answer,
    cohort_first_value_table, cohort_last_touch_sentence, cohort_nrr_answer, cohort_nrr_table, cohort_rmst_answer, cohort_rmst_table,
    cohort_save_answer, cohort_save_method, cohort_save_table, cohort_touch_answer, cohort_touch_table, cohort_touch_words,
    lifetime_figure, lifetime_summary, ltv_table, retention_comparison_summary, retention_comparison_table, retention_comparison_verdict,
    retention_summary, segment_curve_table, at_risk_reason, at_risk_reasons,
)
from cxlib.present.cohort_sections import (  # noqa: F401
    COHORT_SECTIONS, cohort_answers, cohort_churn_parts, cohort_cox_parts,
    cohort_first_value_parts, cohort_key_figures, cohort_lifetime_parts, cohort_newer_parts, cohort_repeat_parts,
    cohort_retention_answer, cohort_revenue_parts, cohort_save_parts, cohort_segment_parts, cohort_source_notes,
    cohort_suppressed_note, cohort_touch_parts,
)
from cxlib.present.nps_drivers import (  # noqa: F401
    driver_scale_text, drivers_scale_summary, drivers_scale_table, drivers_summary, nps_change_text,
    nps_comment_quotes, nps_data_notes, nps_driver_cautions, nps_driver_figure, nps_driver_labels, nps_drivers_sentence,
    nps_gap_sentence, nps_gaps_table, nps_odds_sentence, nps_odds_table,
    nps_period_name, nps_period_span, nps_proposed_items, nps_proposed_quotes, nps_proposed_table, nps_score_figure,
    nps_score_sentence, nps_segment_figure, nps_segments_summary, nps_source_labels, nps_theme_table, nps_themes_items,
    nps_themes_summary, nps_top_two_sentence, nps_weakest_segment, nps_weakest_sentence, nps_weighting_items, nps_weighting_table,
)
from cxlib.present.nps_drivers import (  # noqa: F401  (the nps_drivers page's sections)
    drivers_overlap_words, halo_answers_words, nps_driver_names, nps_drivers_section, nps_drivers_table, nps_odds_section,
    nps_page_answer, nps_page_figures, nps_page_notes, nps_proposed_section, nps_scores_section, nps_segments_section,
    nps_segments_table, nps_theme_examples, nps_themes_section, nps_top_two_section, nps_trend_section,
)
from cxlib.present.experiment_comparison import (  # noqa: F401
    cuped_answer, cuped_table, experiment_answer, experiment_cumulative_answer,
    experiment_explorer_answer, experiment_explorer_table, experiment_figures, experiment_heterogeneity_answer, experiment_labels, experiment_overview,
    experiment_power_answer, experiment_power_table, experiment_quantile_answer, experiment_results_table, experiment_segment_answer,
    experiment_sequential_answer, experiment_sequential_table, experiment_srm_answer, experiment_summary, heavy_tail_answer, heavy_tail_table,
    metric_not_measured_words,
)
from cxlib.present.experiment_comparison import (  # noqa: F401,E402
    experiment_cuped_answer, experiment_key_figures, experiment_not_shown,
)
from cxlib.present.cx_scorecard import (  # noqa: F401
    callback_table, funnel_steps_table, headline_answer, rising_table, scorecard_figures, scorecard_no_answers,
    scorecard_no_answers_before, scorecard_summary, scorecard_touch_answer, scorecard_what_changed_answer, scorecard_what_changed_table, segment_answer,
    source_notes, stage_answer, stage_nps_table, step_time_answer, support_answer, support_quality_table,
    themes_answer, weakest_step_answer,
)
from cxlib.present.cx_scorecard import (  # noqa: F401,E402 (the page's sections)
    scorecard_funnel_answer, scorecard_key_figures, scorecard_loop_answer, scorecard_moved_answer,
    scorecard_segments_answer, scorecard_skipped, scorecard_stages_answer, scorecard_support_answer,
    scorecard_support_trend_missing, scorecard_themes_answer, scorecard_touches_answer, scorecard_week,
)


from cxlib.present.journey_map import (  # noqa: F401,E402 (the journey map page)
    friction_answer, friction_table, journey_answer, journey_figures, journey_footer, journey_inputs, journey_map_table, journey_method, stage_sections, status_mark,
)

__all__ = [
    "escape",
    "CI_NOTE", "MINUS", "MISSING", "ROLES", "SUPPRESSED_NOTE", "count",
    "date", "duration", "format_value", "interval", "interval_range", "label",
    "lift", "money", "number", "p_value", "points", "pp",
    "share", "yes_no", "Figure", "NOTE_TEXT", "Text", "answer",
    "bullets", "change_sentence", "contents", "data_notes", "figure", "key_figures",
    "missing_section", "note_text", "paragraph", "rows_after_as_of_words", "text", "NOT_INTERPRETABLE",
    "NOT_MEASURED", "churn_table", "close_the_loop_table", "drivers_table", "experiment_table", "funnel_table",
    "headline_figures", "headline_table", "lifetime_table", "response_times_table", "retention_curve_table", "retention_table",
    "rising_themes_table", "score_table", "segment_table", "srm_table", "stage_table", "support_changes_table",
    "table", "target_attainment_table", "theme_impact_table", "themes_table", "COHORT_TOUCH_WORDS", "churn_method",
    "churn_summary", "cohort_cox_answer", "cohort_cox_table", "cohort_first_value_answer", "cohort_first_value_table", "cohort_last_touch_sentence",
    "cohort_nrr_answer", "cohort_nrr_table", "cohort_rmst_answer", "cohort_rmst_table", "cohort_save_answer", "cohort_save_method",
    "cohort_save_table", "cohort_touch_answer", "cohort_touch_table", "cohort_touch_words", "lifetime_figure", "lifetime_summary",
    "ltv_table", "retention_comparison_summary", "retention_comparison_table", "retention_comparison_verdict", "retention_summary", "segment_curve_table",
    "COHORT_SECTIONS", "at_risk_reason", "at_risk_reasons", "cohort_answers", "cohort_churn_parts", "cohort_cox_parts",
    "cohort_first_value_parts", "cohort_key_figures", "cohort_lifetime_parts", "cohort_newer_parts", "cohort_repeat_parts",
    "cohort_retention_answer", "cohort_revenue_parts", "cohort_save_parts", "cohort_segment_parts", "cohort_source_notes",
    "cohort_suppressed_note", "cohort_touch_parts",
    "driver_scale_text", "drivers_scale_summary", "drivers_scale_table", "drivers_summary", "nps_change_text",
    "nps_comment_quotes", "nps_data_notes", "nps_driver_cautions", "nps_driver_figure", "nps_driver_labels", "nps_drivers_sentence",
    "nps_gap_sentence", "nps_gaps_table", "nps_odds_sentence", "nps_odds_table",
    "nps_period_name", "nps_period_span", "nps_proposed_items", "nps_proposed_quotes", "nps_proposed_table", "nps_score_figure",
    "nps_score_sentence", "nps_segment_figure", "nps_segments_summary", "nps_source_labels", "nps_theme_table", "nps_themes_items",
    "nps_themes_summary", "nps_top_two_sentence", "nps_weakest_segment", "nps_weakest_sentence", "nps_weighting_items", "nps_weighting_table",
    "drivers_overlap_words", "halo_answers_words", "nps_driver_names", "nps_drivers_section", "nps_drivers_table", "nps_odds_section", "nps_page_answer", "nps_page_figures",
    "nps_page_notes", "nps_proposed_section", "nps_scores_section", "nps_segments_section", "nps_segments_table", "nps_theme_examples", "nps_themes_section", "nps_top_two_section", "nps_trend_section",
    "cuped_answer", "cuped_table", "experiment_answer", "experiment_cumulative_answer",
    "experiment_explorer_answer", "experiment_explorer_table", "experiment_figures", "experiment_heterogeneity_answer", "experiment_labels", "experiment_overview",
    "experiment_power_answer", "experiment_power_table", "experiment_quantile_answer", "experiment_results_table", "experiment_segment_answer",
    "experiment_sequential_answer", "experiment_sequential_table", "experiment_srm_answer", "experiment_summary", "heavy_tail_answer", "heavy_tail_table",
    "metric_not_measured_words", "experiment_cuped_answer", "experiment_key_figures", "experiment_not_shown", "callback_table", "funnel_steps_table", "headline_answer", "rising_table", "scorecard_figures",
    "scorecard_no_answers", "scorecard_no_answers_before", "scorecard_summary", "scorecard_touch_answer", "scorecard_what_changed_answer", "scorecard_what_changed_table",
    "segment_answer", "source_notes", "stage_answer", "stage_nps_table", "step_time_answer", "support_answer",
    "support_quality_table", "themes_answer", "weakest_step_answer",
    "scorecard_funnel_answer", "scorecard_key_figures", "scorecard_loop_answer", "scorecard_moved_answer",
    "scorecard_segments_answer", "scorecard_skipped", "scorecard_stages_answer", "scorecard_support_answer",
    "scorecard_support_trend_missing", "scorecard_themes_answer", "scorecard_touches_answer", "scorecard_week",
    "friction_answer", "friction_table", "journey_answer", "journey_figures", "journey_footer", "journey_inputs",
    "journey_map_table", "journey_method", "stage_sections", "status_mark",
]
