"""Explainability for the policy engine: SHAP attributions per original input column, principal
reasons for adverse decisions, and the measurements explainability rules are judged on.

    expl = explain_model(model, X, seed=0)            # seeded, bounded sample: same inputs → same result
    sensitive_in_top_k(expl, ["sex", "zip"], k=5)      # Measurement; value = count in the top 5
    principal_reasons(expl, 0, excluded={"sex", "zip"})  # .reasons: [(feature, negative contribution), …] ≤ 4

Explainer by model: scikit-learn tree models → shap TreeExplainer (tree_path_dependent, exact);
linear models → LinearExplainer (background masker, exact); anything else → PermutationExplainer on
P(positive) (or the decision function / prediction) over the original columns, which is exactly additive
by construction (antithetic permutations telescope). Pipelines are unwrapped and one-hot columns summed
back into their source column. Details and measured costs: `policies.explain.explainers`.
"""

from policies.explain.explainers import PERMUTATIONS, explain_model, explain_rows
from policies.explain.explanation import ExplainerKind, GlobalExplanation, OutputSpace, canonical_sha256
from policies.explain.reasons import MAX_REASONS, PrincipalReasons, principal_reasons
from policies.explain.rules import additivity, explainable_share, sensitive_attribution_share, sensitive_in_top_k

__all__ = [
    "MAX_REASONS",
    "PERMUTATIONS",
    "ExplainerKind",
    "GlobalExplanation",
    "OutputSpace",
    "PrincipalReasons",
    "additivity",
    "canonical_sha256",
    "explain_model",
    "explain_rows",
    "explainable_share",
    "principal_reasons",
    "sensitive_attribution_share",
    "sensitive_in_top_k",
]
