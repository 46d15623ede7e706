"""Explore docking: choose a kind, filter, re-weight; the ranked list, why a pair ranks, the arc map."""

import time

import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, context, finder, maps, pairs, shortlists
from app_components import weights as weight_sliders
from app_components.i18n import kind_label, plain, preset_label, region_label, relabelled, t
from app_components.ranking import ranked_pairs
from matcher.docking.kinds import available
from matcher.vocab import REGIONS

data = context.data()
engine = context.engine(data)
st.title(t("page_explore"))
kinds = available(data)

first, second = st.columns([2, 3]), st.columns([2, 2, 1, 1])
with first[0]:
    kind = st.selectbox(t("kind"), kinds, format_func=kind_label, key=relabelled("explore.kind"), persist_state="session")
with st.spinner(t("building_engine"), show_time=True):
    features = engine.features(kind)
everyone = cache.entities(data).set_index("id")
with first[1]:
    find, pick = st.columns([2, 3])
    with find:
        ids = sorted(set(features.pairs["left_id"]) | set(features.pairs["right_id"]))
        ids = finder.find("explore.find", ids, everyone.reset_index(), data.version)
    labels = cache.entity_labels(data)
    focus = pick.selectbox(
        t("focus_entity"), [""] + ids, key=relabelled("explore.focus"), persist_state="session",
        format_func=lambda i: t("focus_all") if i == "" else labels.get(i, i),
    )
regions = list(REGIONS)
left_regions = second[0].multiselect(t("left_region"), regions, format_func=region_label, placeholder=t("choose"),
                                     key=relabelled("explore.left_regions"), persist_state="session")
right_regions = second[1].multiselect(t("right_region"), regions, format_func=region_label, placeholder=t("choose"),
                                      key=relabelled("explore.right_regions"), persist_state="session")
min_score = second[2].slider(t("min_score"), 0.0, 1.0, 0.0, 0.05, key="explore.min_score", persist_state="session")
top = second[3].number_input(t("top_n"), 5, 500, 30, 5, key="explore.top", persist_state="session")
# keyed: the title names the preset, and an unkeyed expander whose title changes is a new, closed one
with st.expander(t("weights_title", preset=preset_label(weight_sliders.preset("explore.weights", kind))),
                 key="explore.weights.panel"):
    weights = weight_sliders.show("explore.weights", kind, columns=4)
    model = cache.learned_model(kind)
    use_model = model is not None and st.toggle(t("use_learned"), key=f"explore.learned.{kind}",
                                                help=t("use_learned_help"))

started = time.perf_counter()
ranked = ranked_pairs(engine, kind, weights, for_id=focus or None, left_regions=left_regions,
                      right_regions=right_regions, min_score=min_score or None, top=int(top),
                      scorer=model if use_model else None)
st.subheader(t("ranked_title"))
table_key = f"explore.table.{kind}"
if ranked.empty:  # the ticks a filter now hides stay ticked, counted, clearable and addable below
    st.info(t("no_pairs"))
    ticked = pairs.picked(table_key)
else:
    ticked = pairs.show_table(table_key, ranked)
    st.caption(t("rerank_time", ms=f"{(time.perf_counter() - started) * 1000:,.0f}"))
# the ticked pairs under the current weights, shown or not (a filter may hide some), in tick order
chosen = ranked.head(0)
if ticked:
    chosen = ranked_pairs(engine, kind, weights, only=ticked, top=None, scorer=model if use_model else None)
    chosen = chosen.set_index(["left_id", "right_id"], drop=False).loc[ticked].reset_index(drop=True)
count, clear = st.columns([3, 1])
count.caption(t("ticked_into", n=len(chosen), name=plain(shortlists.target_name(context.store()))))
clear.button(t("clear_ticks"), key="explore.clear", on_click=pairs.clear, args=(table_key,),
             disabled=chosen.empty)
if st.button(t("add_selected"), key="explore.add", type="primary",
             **context.planner_only(chosen.empty, None if len(chosen) else t("select_rows_first"))):
    store = context.store()
    sid = shortlists.current(store, context.planner())
    with st.spinner(t("adding_pairs", n=len(chosen)), show_time=True):
        # the run keeps what ranked the pairs: the learned model's coefficients (and intercept), when it did
        added, skipped = shortlists.add(store, sid, chosen, dataset=data, kind=kind,
                                        weights=model.weights() if use_model else weights,
                                        preset="learned" if use_model else weight_sliders.preset("explore.weights", kind),
                                        planner=context.planner())
    name = shortlists.list_name(store, sid)
    if len(added):  # each pair named once: as added, or as already on the list
        st.success(t("added_pairs", n=len(added), name=plain(name), pairs=plain(pairs.names(added, at_most=10))))
    if len(skipped):
        st.info(t("already_listed", n=len(skipped), name=plain(name), pairs=plain(pairs.names(skipped, at_most=10))))
if not chosen.empty:
    pairs.show_explanation(chosen.iloc[-1], kind)  # the pair ticked last
if ranked.empty:
    st.stop()
st.subheader(t("arc_title"))
highlight = set(zip(chosen["left_id"], chosen["right_id"], strict=True))
maps.show_arcs(f"explore.arcs.{kind}", ranked, cache.entities(data), highlight)
