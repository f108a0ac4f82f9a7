"""The breakdown table saved with the results (``Results.explain``, ``explain.parquet``): each
state's stance in parts at each vote, as ``unsim.explain.breakdown`` computes it and the report
shows it."""

from unsim.model.stages import STAGE_PLAN

#: The part that is the stance itself (the sum of the others).
STANCE = "stance"
#: The table's columns.
COLUMNS = ["iso3", "stage", "part", "label", "mean", "lo", "hi", "runs"]
#: Each vote's name in a sentence ("at the Third Committee vote").
STAGE_WORDS = {st.name: st.words for st in STAGE_PLAN}
