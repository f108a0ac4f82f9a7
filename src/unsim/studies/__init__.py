"""Studies over many variants of one scenario: fast sweep points, sensitivity analysis from the
command line, scenario discovery (PRIM), plots and labels of study folders."""
