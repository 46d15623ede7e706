"""Weight sliders with presets and a reset, one set of sliders per docking kind.

The preset the planner chose is kept in its own session-state key, ``{key}.{kind}.chosen``: the
preset's name when it is picked or reset, ``"custom"`` once a slider is moved. :func:`preset` reads
it, to be recorded with the run; it is never worked out from the weights.
"""

from __future__ import annotations

import streamlit as st

from app_components.i18n import lang, preset_label, relabelled, t
from matcher.docking.kinds import get_kind

CUSTOM = "custom"


def _slider_key(key: str, kind: str, feature: str) -> str:
    return f"{key}.{kind}.w.{feature}"


def _chosen_key(key: str, kind: str) -> str:
    return f"{key}.{kind}.chosen"


def _preset_code(value: str, kind: str) -> str | None:
    """The preset a picker value names: its code, or its label in either language (after a language
    switch the browser may send back the label it showed); None when it names none."""
    from app_components.i18n import PRESET_LABEL

    for code in get_kind(kind).presets:
        if value == code or value in PRESET_LABEL.get(code, ()):
            return code
    return None


def _apply_preset(key: str, kind: str) -> None:
    preset_key = f"{key}.{kind}.preset"
    preset = _preset_code(st.session_state[preset_key], kind)
    if preset is None:  # not a preset: keep the weights and the choice as they are
        return
    st.session_state[preset_key] = preset
    for feature, weight in get_kind(kind).preset_weights(preset).items():
        st.session_state[_slider_key(key, kind, feature)] = float(weight)
    st.session_state[_chosen_key(key, kind)] = preset


def _slider_moved(key: str, kind: str) -> None:
    st.session_state[_chosen_key(key, kind)] = CUSTOM


def preset(key: str, kind: str) -> str:
    """The preset the planner chose with :func:`show` for ``kind``, or ``"custom"`` once a slider moved."""
    return st.session_state.get(_chosen_key(key, kind), get_kind(kind).default_preset)


def show(key: str, kind: str, columns: int = 1) -> dict[str, float]:
    """Preset picker, reset button and one slider per feature of ``kind`` (in ``columns`` columns);
    returns the weights.

    Session-state keys: ``{key}.{kind}.preset`` (the picker), ``{key}.{kind}.chosen`` (see
    :func:`preset`) and ``{key}.{kind}.w.<feature>``.
    """
    docking = get_kind(kind)
    names = list(docking.presets)
    preset_key = f"{key}.{kind}.preset"
    if preset_key not in st.session_state:
        st.session_state[preset_key] = docking.default_preset
    st.session_state.setdefault(_chosen_key(key, kind), st.session_state[preset_key])
    for feature, weight in docking.preset_weights(st.session_state[preset_key]).items():
        st.session_state.setdefault(_slider_key(key, kind, feature), float(weight))
    picker, reset, help_text = st.columns([2, 1, 3], vertical_alignment="bottom") if columns > 1 else (st, st, st)
    picker.selectbox(t("preset"), names, key=relabelled(preset_key), format_func=preset_label,
                     on_change=_apply_preset, args=(key, kind), persist_state="session")
    reset.button(t("reset_weights"), key=f"{key}.{kind}.reset", on_click=_apply_preset, args=(key, kind))
    help_text.caption(t("weights_help"))
    weights = {}
    slots = st.columns(columns) if columns > 1 else [st]
    for i, (feature, label) in enumerate(docking.feature_labels(lang()).items()):
        weights[feature] = slots[i % len(slots)].slider(
            label, 0.0, 1.0, step=0.05, key=_slider_key(key, kind, feature),  # markdown-safe: the code's feature labels
            on_change=_slider_moved, args=(key, kind), persist_state="session",
        )
    return weights
