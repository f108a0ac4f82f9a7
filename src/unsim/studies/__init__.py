"""Studies over many variants of one scenario, run by one evaluator
(:mod:`unsim.studies.evaluator`): parameter sweeps (:mod:`unsim.studies.sweeps`, their designs,
execution, storage, table and plots), fast sweep points, sensitivity analysis (SALib) and its
command, strategy comparison, scenario discovery (PRIM), study plots, labels."""
