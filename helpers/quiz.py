"""Interview question bank and an auto-graded self-quiz (notebook 09).

Two collections, both plain data:

* ``QUESTIONS`` — open interview questions: the source article's five questions
  and its section-4 model, plus the follow-ups an interviewer asks next. Each has
  a difficulty (warm-up / core / deep), a kind (concept / coding / design), the
  notebook that answers it, and a rubric: the points a strong answer contains.
* ``QUIZ`` — short items with one right answer (multiple choice or a number with
  a tolerance), each pointing to the notebook to revisit when it is missed.

``grade(answers)`` scores a sheet ``{item id: answer}``; ``check_self_quiz``
wraps it in the exercise protocol of ``helpers.feedback`` (✓ / "not attempted
yet" / ``AssertionError`` naming what to revisit). Only the standard library is
imported: the bank loads instantly, without TensorFlow.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from helpers.feedback import not_attempted

__all__ = [
    "ANSWER_KEY",
    "DIFFICULTIES",
    "KINDS",
    "NOTEBOOKS",
    "QUESTIONS",
    "QUIZ",
    "MultipleChoice",
    "Numeric",
    "Question",
    "QuizResult",
    "bank_table",
    "check_self_quiz",
    "grade",
    "interview_plan",
    "item",
    "question",
    "rubric_markdown",
    "show_question",
    "show_quiz",
    "show_rubric",
]

DIFFICULTIES = ("warm-up", "core", "deep")
KINDS = ("concept", "coding", "design")
# Every notebook of the collection, by file stem (solutions/<stem>.ipynb).
NOTEBOOKS = (
    "00_start_here",
    "01_challenges",
    "02_lstm",
    "03_attention",
    "04_lstm_classifier",
    "05_attention_layer",
    "06_full_model",
    "07_transformers_and_large_models",
    "08_real_data_churn",
    "09_mock_interview",
)


@dataclass(frozen=True)
class Question:
    """An open interview question and what a strong answer must contain."""

    id: str
    text: str
    difficulty: str  # one of DIFFICULTIES
    kind: str  # one of KINDS
    notebook: str  # the notebook that answers it, e.g. "04_lstm_classifier"
    rubric: tuple[str, ...]  # the points a strong answer contains
    source: str = ""  # where the article poses it ("题目 4"), empty for follow-ups


@dataclass(frozen=True)
class MultipleChoice:
    """A quiz item answered with one letter: "a" for the first choice, "b" for the next..."""

    id: str
    prompt: str
    choices: tuple[str, ...]
    answer: str  # the correct letter
    notebook: str  # where to revisit when it is missed

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple("abcdefgh"[: len(self.choices)])


@dataclass(frozen=True)
class Numeric:
    """A quiz item answered with a number; within ``tolerance`` of ``answer`` counts."""

    id: str
    prompt: str
    answer: float
    tolerance: float  # absolute
    notebook: str


# --- the question bank -------------------------------------------------------------
def _q(id, difficulty, kind, notebook, text, rubric, source=""):
    return Question(id, text, difficulty, kind, notebook, tuple(rubric), source)


QUESTIONS: tuple[Question, ...] = (
    # -- the source article: §1, 题目 1-5, §4
    _q("article-s1", "warm-up", "concept", "00_start_here",
       "Why does user-behavior-sequence analysis matter for an e-commerce platform, and what "
       "would you predict from it?", [
           "Turns the four uses (experience, precision marketing, recommendation, churn) into "
           "prediction tasks, each with a label, an input window and a metric.",
           "Order carries intent (favorite → cart is not cart → favorite); counts miss it.",
           "Positives are rare: ranking metrics (ROC-AUC, PR-AUC), not accuracy.",
           "Leakage-free setup: inputs strictly before the prediction time, labels after it.",
       ], "§1"),
    _q("article-1", "warm-up", "concept", "01_challenges",
       "What are the main challenges of modeling user-behavior sequences?", [
           "High-cardinality ids (高维度特征): embeddings, hashing, sharded tables.",
           "Order (序列建模): a shuffle test shows an order-aware model uses it.",
           "Imbalance (数据不平衡): accuracy is useless; PR-AUC vs the positive rate, "
           "thresholds for the goal, class weights break calibration.",
           "Beyond the article: padding and masking, long histories, cold start, leakage, "
           "drift.",
       ], "题目 1"),
    _q("article-2", "core", "concept", "02_lstm",
       "Briefly describe how an LSTM processes a user-behavior sequence.", [
           "Each event becomes a vector (embedded behavior type and item, time gap); padding "
           "is masked.",
           "Gates: c_t = f_t * c_{t-1} + i_t * g_t, h_t = o_t * tanh(c_t); the last h_T or "
           "attention-pooled h_t feeds the classifier.",
           "Mitigates (does not avoid) vanishing gradients: along the cell state the gradient "
           "is multiplied by the forget gate.",
           "A session is an irregular event sequence, not a regularly sampled time series.",
           "Keep tanh / sigmoid: bounded state, cuDNN kernel on GPU.",
       ], "题目 2"),
    _q("article-3", "core", "concept", "03_attention",
       "Explain how the attention mechanism improves the analysis of user-behavior sequences.", [
           "A score per event, a masked softmax over time, a weighted sum: one context vector.",
           "A direct, learned path from the output to every event instead of the last state.",
           "A constant bias on the score cancels under softmax.",
           "Target attention (DIN): the candidate item is the query; no softmax keeps intensity.",
           "Weights are not explanations; measure the gain against a last-state baseline over "
           "several seeds.",
       ], "题目 3"),
    _q("article-4", "core", "coding", "04_lstm_classifier",
       "Write a Python program that classifies user-behavior sequences with an LSTM.", [
           "keras.Input((timesteps, n_features)), not input_shape=; Masking(0.0) for padding.",
           "LSTM with the default tanh; Dense(1, sigmoid); binary cross-entropy.",
           "ROC-AUC and PR-AUC, not accuracy (always 'no' is ~96 % accurate).",
           "Validation and test split by user; keep the best validation epoch.",
           "Class weights change calibration more than ranking; choose the threshold on "
           "validation data.",
       ], "题目 4"),
    _q("article-5", "core", "coding", "05_attention_layer",
       "Write a Keras attention layer that models user-behavior sequences.", [
           "Score e_t = v·tanh(W h_t + b) or w·h_t; softmax over axis 1 (time); context "
           "sum_t a_t h_t shaped (batch, features).",
           "No bias on a linear score (shift-invariant softmax); the article's (features, 1) "
           "bias crashes when time ≠ features.",
           "call(inputs, mask=None): masked scores → large negative; compute_mask returns None.",
           "get_config returns constructor arguments only; register the class for loading.",
           "Goes after LSTM(return_sequences=True), not before it; keras.ops only.",
       ], "题目 5"),
    _q("article-s4", "deep", "coding", "06_full_model",
       "Build a complete LSTM + attention model from raw event ids to a purchase probability, "
       "and show that the attention earns its place.", [
           "Integer id inputs (batch, time), one Embedding(mask_zero=True) per id type, "
           "Concatenate.",
           "LSTM(return_sequences=True) → masked attention pooling → Dense(1, sigmoid).",
           "Regularise the long-tailed item embeddings.",
           "Split by user; compare with an order-blind baseline and a last-state LSTM; "
           "bootstrap the difference.",
           "Save and reload with safe_mode=True and identical predictions.",
       ], "§4"),
    # -- 00 start here
    _q("00-label-leakage", "core", "concept", "00_start_here",
       "How would you define the label for purchase prediction on a real log, and how do "
       "you avoid leakage?", [
           "Fix a prediction time; inputs strictly before it, label in a window after it.",
           "Split by user or by time, never by random session.",
           "Beware features computed over the whole log (popularity including the future).",
       ]),
    _q("00-bayes-ceiling", "deep", "concept", "00_start_here",
       "What does a Bayes ROC-AUC ceiling mean, and how would you estimate headroom on real "
       "data where the true probability is unknown?", [
           "The score of the true conditional probability: the best achievable in expectation "
           "given the inputs.",
           "Below 1 because the label is random given what the model sees.",
           "On real data: learning curves, stronger models and ensembles, label-noise "
           "estimates.",
           "New information (features) can raise the ceiling; more modeling cannot.",
       ]),
    _q("00-when-sequence", "warm-up", "concept", "00_start_here",
       "A count-based model is cheap. When is a sequence model worth it?", [
           "When order or recency carries signal (cart after favorite, time since last cart).",
           "Measure it: same split, an order-blind baseline, the ceiling where known.",
           "If the gain is small, ship the cheap model.",
       ]),
    # -- 01 challenges
    _q("01-embedding-table", "deep", "design", "01_challenges",
       "Your embedding table for 4 M items does not fit on one GPU. What are your options?", [
           "Shard the table across devices or parameter servers.",
           "Hash ids into fewer buckets (collisions trade accuracy for memory).",
           "Frequency cutoff with an OOV bucket; smaller dimensions for rare items.",
           "Mixed precision for the table.",
       ]),
    _q("01-prove-order", "core", "concept", "01_challenges",
       "How would you prove to a skeptical colleague that the model uses order, not just "
       "counts?", [
           "Permutation test: shuffle events within sessions at test time.",
           "An order-blind model is exactly invariant; an order-aware one loses score.",
           "Same split, an order-blind baseline, a bootstrap interval for the difference.",
       ]),
    _q("01-auc-jump", "core", "concept", "01_challenges",
       "Offline ROC-AUC jumped far above every earlier model after adding one feature. What "
       "do you check first?", [
           "Leakage: is the feature computed at or after the label time?",
           "Target statistics computed on all data; users in both train and test.",
           "Re-score on a time-based split with features rebuilt strictly from the past.",
       ]),
    _q("01-class-weight", "core", "concept", "01_challenges",
       "Why not just use class_weight for the imbalance and stop there?", [
           "It moves which examples cross 0.5 but barely changes the ranking.",
           "It inflates every probability: calibration breaks.",
           "Recalibrate (Platt, isotonic, divide the weights out of the odds) or choose a "
           "threshold for the goal instead.",
       ]),
    _q("01-drift", "core", "concept", "01_challenges",
       "What is the difference between concept drift and covariate shift? Give an "
       "e-commerce example of each, and say how you would catch them.", [
           "Concept drift: P(label | events) changes (one-click checkout makes favorites "
           "matter less).",
           "Covariate shift: the input distribution changes, same label process (a campaign "
           "brings longer sessions).",
           "Time-based validation, monitoring inputs and calibration, scheduled retraining.",
       ]),
    # -- 02 lstm
    _q("02-gru", "warm-up", "concept", "02_lstm", "GRU or LSTM?", [
        "GRU: update and reset gates, no separate cell state: about a quarter fewer "
        "parameters.",
        "Keeping and writing are coupled (z vs 1 - z); LSTM's f and i are independent.",
        "Empirically close: choose on validation data and cost (GRU4Rec uses a GRU).",
    ]),
    _q("02-bidirectional", "core", "concept", "02_lstm",
       "Would a bidirectional LSTM help for next-event prediction?", [
           "No: the backward direction has already read the event to be predicted (leakage).",
           "Training metrics look excellent, the model is useless at serving time.",
           "Use a causal model; bidirectional is fine for a completed input whose label lies "
           "outside it.",
       ]),
    _q("02-long-history", "deep", "concept", "02_lstm",
       "Why does an LSTM still struggle with 1,000-event histories, and what do you do "
       "instead?", [
           "The gradient along the cell is a product of forget gates; it has vanished at "
           "initialisation (forget gate about 0.73).",
           "Sequential computation: slow and memory-hungry to train.",
           "Keep recent events and summarise the rest; chrono initialisation; attention or "
           "retrieval of relevant past behaviors (SIM).",
       ]),
    _q("02-nan-loss", "core", "concept", "02_lstm",
       "Training loss suddenly jumps or becomes NaN. What do you check?", [
           "Exploding gradients: clip the gradient norm (clipnorm / global_clipnorm).",
           "Lower the learning rate; keep tanh (relu exploded where tanh did not).",
           "Extreme unscaled inputs (time gaps, prices) and unmasked padding.",
       ]),
    _q("02-relu", "warm-up", "concept", "02_lstm",
       "The article's LSTM uses activation='relu'. What is wrong with that?", [
           "tanh bounds |h_t| < 1 for any weights; relu makes the state unbounded.",
           "At a higher learning rate the relu LSTM exploded; on long sequences activations "
           "overflow.",
           "relu rules out the fused cuDNN kernel on GPU (silent slow path).",
       ]),
    # -- 03 attention
    _q("03-additive-dot", "core", "concept", "03_attention",
       "Additive or dot-product attention?", [
           "Additive: v·tanh(W_q q + W_k k), a small MLP per pair (Bahdanau).",
           "Dot-product: q·k / sqrt(d), one matrix multiply, faster; the scaling keeps the "
           "softmax from saturating.",
           "Quality usually similar; Transformers use dot-product.",
       ]),
    _q("03-explanation", "deep", "concept", "03_attention",
       "Can you use the attention weights to explain a prediction?", [
           "Over LSTM outputs, h_t summarises events 1..t: a weight on step t is not a "
           "weight on event t.",
           "Weights can disagree with gradient / leave-one-out importance (Jain & Wallace "
           "2019; Wiegreffe & Pinter 2019).",
           "Test explanations by intervention: change an event, measure the prediction.",
       ]),
    _q("03-din", "core", "concept", "03_attention",
       "What is DIN-style target attention, and why does DIN drop the softmax?", [
           "The candidate item is the query: the user vector depends on what is scored.",
           "Without softmax the pooled vector grows with the amount of relevant history "
           "(intensity of interest).",
           "DIEN adds a GRU so that interest can evolve over time.",
       ]),
    _q("03-prove-gain", "core", "concept", "03_attention",
       "How would you show that attention actually helped?", [
           "Same split, same encoder, a last-state and a mean-pooling baseline.",
           "Several seeds: one run can go either way.",
           "Ranking metrics, and slices where it should matter (long sessions, early key "
           "events).",
       ]),
    # -- 04 lstm classifier
    _q("04-threshold", "core", "concept", "04_lstm_classifier",
       "How do you pick the decision threshold, and does it depend on class weights?", [
           "On validation data, from the cost of a false positive vs a false negative, or a "
           "target precision / recall.",
           "Class weights shift every probability: the threshold moves with them.",
           "Recalibrate if downstream systems need probabilities.",
       ]),
    _q("04-split", "warm-up", "concept", "04_lstm_classifier",
       "Why split by user rather than by session? When would you split by time?", [
           "Sessions of one user share habits: a random split rewards recognising users.",
           "Production predicts the future: a time-based split is the most honest.",
           "Combine both when cold-start users matter.",
       ]),
    _q("04-auc-good", "core", "concept", "04_lstm_classifier",
       "ROC-AUC is 0.8. Is the model good?", [
           "Compare with baselines on the same split (constant 0.5, order-blind, production).",
           "PR-AUC vs the positive rate, lift at the top, calibration.",
           "Report uncertainty: few positives make AUC noisy (bootstrap).",
       ]),
    # -- 05 attention layer
    _q("05-float16", "deep", "coding", "05_attention_layer",
       "Your model runs in mixed_float16. What breaks in your attention layer?", [
           "-1e9 does not exist in float16 (max about 65,504): it becomes -inf.",
           "Fully masked rows then give NaN (-inf minus -inf) in the softmax.",
           "Use the dtype's own lowest value or compute the softmax in float32.",
       ]),
    _q("05-unit-test", "core", "coding", "05_attention_layer",
       "How would you unit-test a custom layer before putting it in production?", [
           "Shapes for several time / feature sizes; weights sum to 1 over unmasked steps.",
           "Masked values cannot change the output; agreement with a NumPy reference.",
           "get_config is JSON, from_config rebuilds it, save/load gives identical outputs.",
       ]),
    # -- 06 full model
    _q("06-latency", "deep", "design", "06_full_model",
       "The model must answer in 10 ms at serving time. What costs time, and what would you "
       "change?", [
           "The LSTM is sequential over events: truncate to the last N.",
           "Keep per-user state and update it event by event (streaming); attention pooling "
           "needs stored outputs or a window.",
           "Precompute embeddings, batch, export and quantise; measure p99, not the mean.",
           "Compare with a cheaper baseline before paying the cost.",
       ]),
    _q("06-side-features", "core", "coding", "06_full_model",
       "How would you add time gaps and side features (category, price, device)?", [
           "More id inputs get their own masked Embedding and join the Concatenate.",
           "Per-event floats (log gap, price) as a (batch, time, k) input, normalised.",
           "Per-user / per-request features join after pooling, next to the context.",
       ]),
    _q("06-offline-online", "deep", "design", "06_full_model",
       "Offline ROC-AUC went up. Will revenue go up?", [
           "Offline logs come from the old policy (feedback loop, position bias).",
           "Split by time as well as by user; per-user AUC (GAUC).",
           "Decide with an online A/B test on the business metric, with guardrails.",
       ]),
    _q("06-calibration", "core", "concept", "06_full_model",
       "Are the predicted probabilities calibrated, and does it matter?", [
           "Ranking metrics ignore calibration.",
           "It matters when the number is used as a probability: expected revenue, bids, "
           "thresholds.",
           "Downsampling and class weights shift it; check a reliability diagram, fix with "
           "Platt or isotonic on validation data.",
       ]),
    # -- 07 transformers and large models
    _q("07-bst-vs-lstm", "core", "concept", "07_transformers_and_large_models",
       "Self-attention (BST) or LSTM + attention for a behavior sequence?", [
           "Self-attention relates every pair of events directly and parallelises over time.",
           "It is order-blind: it needs position or time-gap embeddings.",
           "Cost is O(T²) per layer vs O(T) sequential for an LSTM; on short sessions an LSTM "
           "is a strong baseline — measure on the same split.",
       ]),
    _q("07-sasrec", "core", "coding", "07_transformers_and_large_models",
       "Describe SASRec-style next-item prediction and how you evaluate it.", [
           "Causal self-attention: position t attends only to events 1..t.",
           "Every position is trained to predict the next item (shifted targets).",
           "HR@10 and NDCG@10 on the held-out last item, ranked against the full catalogue "
           "(or say how negatives were sampled).",
       ]),
    _q("07-causal-leak", "deep", "concept", "07_transformers_and_large_models",
       "Your next-item Transformer scores suspiciously well offline. What is the first "
       "bug to look for?", [
           "A missing causal mask: bidirectional attention lets position t see item t+1.",
           "Check the mask shape and that targets are shifted by one.",
           "Bidirectional models (BERT4Rec) need a different objective (masked items), "
           "not the next-item loss.",
       ]),
    _q("07-long-history", "deep", "design", "07_transformers_and_large_models",
       "Users have 10,000-event lifelong histories. How do you use them in a ranking model?", [
           "Full self-attention is O(T²): infeasible at that length.",
           "Recent window for the full model; retrieve candidate-relevant behaviors from the "
           "long history (SIM: by category or embedding; ETA: hashing-based approximate "
           "search).",
           "Or a compressed per-user memory updated online (MIMN).",
       ]),
    _q("07-llm-cold-start", "deep", "design", "07_transformers_and_large_models",
       "Where do large language models and generative recommenders help with behavior "
       "sequences?", [
           "Cold start: text / image embeddings from a pretrained model give new items a "
           "vector before any interaction.",
           "Generative recommenders treat the sequence as tokens (semantic item ids) and "
           "generate the next item.",
           "Costs: latency and serving budget; still measured against id-based baselines.",
       ]),
    _q("07-sampled-metrics", "deep", "concept", "07_transformers_and_large_models",
       "Why can HR@10 computed against 100 sampled negatives mislead?", [
           "Sampled metrics are not consistent with full-catalogue ranking: model order can "
           "flip (Krichene & Rendle 2020).",
           "Popularity-sampled vs uniform negatives change the numbers.",
           "Report full ranking where possible, or state the sampling.",
       ]),
    _q("07-positions", "warm-up", "concept", "07_transformers_and_large_models",
       "Why does self-attention need positional encodings, and what does BST use?", [
           "Self-attention is permutation-equivariant: without positions it is order-blind.",
           "Learned position embeddings or sinusoids; BST uses the time since the event.",
       ]),
    # -- 08 real data churn
    _q("08-churn-label", "core", "concept", "08_real_data_churn",
       "Define a churn label on a purchase log like CDNOW without leakage.", [
           "A calibration period for features and a later holdout period for the label (no "
           "purchase in the holdout = churned).",
           "Features use only calibration-period events.",
           "The window lengths define the label: choose them with the business.",
       ]),
    _q("08-rfm-vs-lstm", "core", "concept", "08_real_data_churn",
       "An RFM logistic regression is your baseline. When should an LSTM beat it on churn?", [
           "RFM = recency, frequency, monetary value: strong, cheap summaries.",
           "The sequence model wins only if order / timing patterns add signal beyond them.",
           "Same customers, same cutoff; ROC-AUC and PR-AUC with an interval, and "
           "calibration.",
       ]),
    _q("08-calibration-plot", "core", "concept", "08_real_data_churn",
       "Why show a calibration plot for a churn model?", [
           "Retention budgets use probabilities: a predicted 0.3 should mean 30 % churn.",
           "Reliability diagram: mean predicted vs observed rate per bin.",
           "Fix with Platt or isotonic on held-out data.",
       ]),
    _q("08-time-split", "warm-up", "concept", "08_real_data_churn",
       "Why are churn features and labels cut at one date, rather than computed from the "
       "whole log?", [
           "In production the model scores the future: features strictly before the cutoff, "
           "the label (a purchase or none) after it.",
           "Recency measured at the end of the holdout makes the feature the label (leakage).",
           "A test: scramble the holdout purchases; the features must not change.",
       ]),
    _q("08-uplift", "deep", "design", "08_real_data_churn",
       "You can send a retention coupon to 10 % of customers. Whom do you target?", [
           "Not simply the highest churn risk: target those the coupon changes (uplift).",
           "Needs randomised treatment data (an A/B test) to estimate the effect.",
           "Evaluate with a Qini / uplift curve; mind the coupon's cost.",
       ]),
    # -- 09 system design
    _q("09-system-design", "deep", "design", "09_mock_interview",
       "Design a service that scores purchase intent from behavior sequences in real time.", [
           "Features: event stream (item, behavior, time gap) per user, recent window, side "
           "features; the same code offline and online.",
           "Training data: labels after a cutoff, inputs before it; split by user and time.",
           "Serving: latency budget (p99), streaming state or truncated window, fallback.",
           "Monitoring: input drift, calibration, delayed-label metrics, retraining trigger.",
       ]),
)

# --- the self-quiz -----------------------------------------------------------------
QUIZ: tuple[MultipleChoice | Numeric, ...] = (
    MultipleChoice(
        "q1", "Why split simulated sessions by user rather than at random?",
        ("Random splits are slower to compute.",
         "So that no user's sessions are in both training and test: a test set of new users.",
         "Because labels are only defined per user.",
         "Keras requires it for masking."),
        "b", "00_start_here"),
    Numeric(
        "q2", "3 % of sessions end in a purchase. What accuracy does a model that always "
        "predicts 'no purchase' get? (a fraction, e.g. 0.5)",
        0.97, 0.001, "01_challenges"),
    Numeric(
        "q3", "3 % of sessions end in a purchase. What PR-AUC (average precision) does a "
        "model get that gives every session the same score?",
        0.03, 0.001, "01_challenges"),
    Numeric(
        "q4", "How many trainable parameters does keras.layers.LSTM(64) have on inputs with "
        "32 features per step?",
        4 * (64 * (32 + 64) + 64), 0.5, "02_lstm"),
    Numeric(
        "q5", "A freshly initialised Keras LSTM (unit_forget_bias=True) gets an all-zero event "
        "and a zero state. What is the value of its forget gate? (3 decimals)",
        1 / (1 + math.exp(-1)), 0.002, "02_lstm"),
    MultipleChoice(
        "q6", "What lets an LSTM carry a gradient across many events?",
        ("The relu activation.",
         "The output gate, which is always 1.",
         "The additive cell-state update: along it the gradient is multiplied by the forget "
         "gate, so it survives while that gate stays near 1.",
         "Nothing: LSTMs have no vanishing-gradient problem at all."),
        "c", "02_lstm"),
    Numeric(
        "q7", "A session has 12 real events and 28 padding steps. With masked attention "
        "pooling, what do the attention weights of its 12 real events add up to?",
        1.0, 1e-6, "03_attention"),
    MultipleChoice(
        "q8", "Why does DIN (Deep Interest Network) not normalise its attention weights with a "
        "softmax?",
        ("To keep the intensity of interest: five relevant behaviors should weigh more than "
         "one.",
         "Softmax cannot be masked.",
         "To save compute at serving time.",
         "Because DIN has no candidate item."),
        "a", "03_attention"),
    Numeric(
        "q9", "What ROC-AUC does a random ranking get in expectation when 3 % of sessions are "
        "positive?",
        0.5, 0.01, "04_lstm_classifier"),
    Numeric(
        "q10", "4 % of training sessions are positive. What weight does the 'balanced' rule "
        "w_c = N / (2 N_c) give the positive class?",
        12.5, 0.01, "04_lstm_classifier"),
    MultipleChoice(
        "q11", "Why is accuracy the wrong metric when about 4 % of sessions end in a purchase?",
        ("Accuracy cannot be computed from sigmoid outputs.",
         "Padding inflates accuracy.",
         "Accuracy is only defined for balanced classes.",
         "A model that always says 'no' is about 96 % accurate and ranks no buyer above a "
         "non-buyer."),
        "d", "04_lstm_classifier"),
    MultipleChoice(
        "q12", "Attention scores are shaped (batch, time, 1). Over which axis must the softmax "
        "run?",
        ("axis=-1 (the last axis)", "axis=1 (time)", "axis=0 (batch)",
         "None: sigmoid each score instead"),
        "b", "05_attention_layer"),
    MultipleChoice(
        "q13", "A custom layer's get_config returns its weight variables W and b. What "
        "happens?",
        ("The model fails to save.",
         "Nothing: Keras ignores extra config entries.",
         "The model saves, but load_model fails: from_config passes W= and b= to __init__.",
         "The weights are saved twice and loading is slow."),
        "c", "05_attention_layer"),
    MultipleChoice(
        "q14", "Which Keras argument makes an Embedding layer emit a mask, so the LSTM and "
        "the attention after it skip padding id 0?",
        ("return_sequences=True", "mask_zero=True", "input_length=max_len", "trainable=False"),
        "b", "06_full_model"),
    Numeric(
        "q15", "How many parameters does keras.layers.Embedding(input_dim=1001, output_dim=16) "
        "have?",
        1001 * 16, 0.5, "06_full_model"),
    Numeric(
        "q16", "One self-attention head over a sequence of T = 200 events: how many "
        "query-key scores does it compute?",
        200 * 200, 0.5, "07_transformers_and_large_models"),
    Numeric(
        "q17", "Sampled evaluation: the true next item is ranked among itself and 100 random "
        "negatives. What HR@10 does a random ranking get in expectation? (4 decimals)",
        10 / 101, 0.0005, "07_transformers_and_large_models"),
    Numeric(
        "q18", "One relevant item, ranked 3rd. What is NDCG@10?",
        1 / math.log2(3 + 1), 0.001, "07_transformers_and_large_models"),
    MultipleChoice(
        "q19", "A next-item Transformer trained without a causal mask scores far better "
        "offline than SASRec. Why?",
        ("Bidirectional attention is always better.",
         "It uses more parameters.",
         "Each position has already seen the item it must predict: leakage; at serving time "
         "that item does not exist yet.",
         "HR@10 favours bigger models."),
        "c", "07_transformers_and_large_models"),
    MultipleChoice(
        "q20", "How is a leakage-free churn label built from a 78-week purchase log such as "
        "CDNOW?",
        ("Features from all 78 weeks, a random 80/20 split of customers.",
         "Label = the customer's last purchase amount.",
         "Features from the holdout weeks, label from the calibration weeks.",
         "Features from the first 39 weeks (calibration) only; label = no purchase in the "
         "following 39 weeks (holdout)."),
        "d", "08_real_data_churn"),
    MultipleChoice(
        "q21", "What does a calibration (reliability) plot show?",
        ("Mean predicted probability against the observed positive rate, per bin.",
         "True-positive rate against false-positive rate.",
         "Training and validation loss per epoch.",
         "Attention weights per event."),
        "a", "08_real_data_churn"),
    MultipleChoice(
        "q22", "In an RFM baseline, what do R, F and M stand for?",
        ("Rank, filter, mask", "Recall, F1, mean precision",
         "Recency, frequency, monetary value", "Retention, funnel, margin"),
        "c", "08_real_data_churn"),
)

ANSWER_KEY: Mapping[str, str | float] = MappingProxyType(
    {item.id: item.answer for item in QUIZ}
)
_BY_ID = {q.id: q for q in QUESTIONS}
_ITEMS = {item.id: item for item in QUIZ}


# --- the bank ----------------------------------------------------------------------
def question(question_id: str) -> Question:
    """The bank's question with this id; ValueError naming the known ids otherwise."""
    if question_id not in _BY_ID:
        raise ValueError(
            f"unknown question id {question_id!r}; expected one of: {', '.join(_BY_ID)}"
        )
    return _BY_ID[question_id]


def item(item_id: str) -> MultipleChoice | Numeric:
    """The quiz item with this id; ValueError naming the known ids otherwise."""
    if item_id not in _ITEMS:
        raise ValueError(f"unknown quiz item id {item_id!r}; expected one of: {', '.join(_ITEMS)}")
    return _ITEMS[item_id]


def _select(difficulty=None, notebook=None, kind=None):
    for value, allowed, what in ((difficulty, DIFFICULTIES, "difficulty"),
                                 (kind, KINDS, "kind"), (notebook, NOTEBOOKS, "notebook")):
        if value is not None and value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; expected one of {allowed}")
    return [
        q for q in QUESTIONS
        if difficulty in (None, q.difficulty) and notebook in (None, q.notebook)
        and kind in (None, q.kind)
    ]


def bank_table(difficulty=None, notebook=None, kind=None):
    """The bank as a pandas DataFrame (rubrics left out), optionally filtered."""
    import pandas as pd

    rows = [
        {"id": q.id, "difficulty": q.difficulty, "kind": q.kind, "notebook": q.notebook,
         "question": q.text}
        for q in _select(difficulty, notebook, kind)
    ]
    return pd.DataFrame(rows, columns=["id", "difficulty", "kind", "notebook", "question"])


def show_question(question_id: str) -> None:
    """Print one question, without its rubric."""
    q = question(question_id)
    source = f", {q.source} of the article" if q.source else ""
    print(f"[{q.id}] {q.difficulty}, {q.kind}{source} — answered in {q.notebook}")
    print(q.text)


def show_rubric(question_id: str) -> None:
    """Print what a strong answer to this question contains."""
    q = question(question_id)
    print(f"[{q.id}] a strong answer covers:")
    for point in q.rubric:
        print(f"  - {point}")


def rubric_markdown(difficulty=None, notebook=None, kind=None) -> str:
    """Markdown: each selected question with its rubric folded inside <details>."""
    blocks = []
    for q in _select(difficulty, notebook, kind):
        points = "\n".join(f"- {p}" for p in q.rubric)
        blocks.append(
            f"**{q.text}** *({q.difficulty}, {q.kind}; `{q.id}`, answered in "
            f"`{q.notebook}`)*\n<details><summary>Rubric</summary>\n\n{points}\n</details>\n"
        )
    return "\n".join(blocks)


# The 45-minute interview: (part, minutes, how questions are drawn, what is assessed)
PLAN = (
    ("warm-up", 5, dict(difficulty="warm-up", kind="concept"), 2,
     "clear definitions, the vocabulary (mask, ROC-AUC, split by user), no rambling"),
    ("deep dive", 15, dict(difficulty="core", kind="concept"), 2,
     "mechanism and equations, a measured claim rather than a slogan, honest limits"),
    ("coding", 15, dict(kind="coding"), 1,
     "working code first, shapes stated, masking and metrics right, tests it as it goes"),
    ("system design", 10, dict(kind="design"), 1,
     "features, training data without leakage, serving latency, monitoring; trade-offs"),
)


def interview_plan(seed: int = 0) -> list[dict]:
    """A 45-minute mock interview: each part with its minutes and questions drawn
    from the bank (same seed → same interview)."""
    rng = random.Random(seed)
    plan = []
    for part, minutes, selector, count, looks_for in PLAN:
        pool = _select(**selector)
        if part == "system design":  # always end on the service-design question
            picks = [question("09-system-design")]
        else:
            picks = rng.sample(pool, count)
        plan.append({"part": part, "minutes": minutes, "questions": [q.id for q in picks],
                     "interviewer looks for": looks_for})
    return plan


# --- the quiz ----------------------------------------------------------------------
def show_quiz() -> None:
    """Print every quiz item with its choices (no answers)."""
    for item in QUIZ:
        print(f"{item.id}. {item.prompt}")
        if isinstance(item, MultipleChoice):
            for letter, choice in zip(item.letters, item.choices, strict=True):
                print(f"    {letter}) {choice}")


@dataclass(frozen=True)
class QuizResult:
    """Score of one sheet. ``missed`` holds (item id, notebook) for every wrong or
    missing answer, in quiz order."""

    score: int
    total: int
    missed: tuple[tuple[str, str], ...]

    def revisit(self) -> dict[str, list[str]]:
        """{notebook: [item ids]} for the missed items, notebooks in order."""
        out: dict[str, list[str]] = {}
        for item_id, notebook in self.missed:
            out.setdefault(notebook, []).append(item_id)
        return dict(sorted(out.items()))

    def summary(self) -> str:
        """e.g. "12/15 — revisit 02_lstm (q3, q7), 04_lstm_classifier (q10)"."""
        if not self.missed:
            return f"{self.score}/{self.total} — full marks"
        where = ", ".join(f"{nb} ({', '.join(ids)})" for nb, ids in self.revisit().items())
        return f"{self.score}/{self.total} — revisit {where}"


def _is_correct(item, given) -> bool:
    """True/False for a well-formed answer; ValueError saying what was expected otherwise."""
    if isinstance(item, MultipleChoice):
        if not isinstance(given, str):
            raise ValueError(
                f"{item.id}: expected a choice letter (one of {', '.join(item.letters)}) as "
                f"a string, got {type(given).__name__} {given!r}"
            )
        letter = given.strip().lower()
        if letter not in item.letters:
            raise ValueError(
                f"{item.id}: choice {given!r} is not offered; expected one of "
                f"{', '.join(item.letters)}"
            )
        return letter == item.answer
    if isinstance(given, bool) or not isinstance(given, numbers.Real):
        raise ValueError(
            f"{item.id}: expected a number (int or float), got {type(given).__name__} "
            f"{given!r}"
        )
    if not math.isfinite(given):
        raise ValueError(f"{item.id}: expected a finite number, got {given!r}")
    return abs(float(given) - item.answer) <= item.tolerance


def grade(answers: Mapping[str, str | float | None]) -> QuizResult:
    """Score a sheet ``{item id: answer}``: a letter for multiple choice, a number for
    numeric items. Missing items (or None) count as wrong.

    Raises ValueError for an unknown item id, an answer of the wrong type, or a
    letter the item does not offer.
    """
    if not isinstance(answers, Mapping):
        raise ValueError(
            f"expected a dict {{item id: answer}}, e.g. {{'q1': 'b', 'q2': 0.97}}; got "
            f"{type(answers).__name__}"
        )
    unknown = [key for key in answers if key not in _ITEMS]
    if unknown:
        raise ValueError(
            f"unknown quiz item id(s) {unknown}; expected ids {QUIZ[0].id}..{QUIZ[-1].id}"
        )
    missed = []
    for item in QUIZ:
        given = answers.get(item.id)
        if given is None or not _is_correct(item, given):
            missed.append((item.id, item.notebook))
    return QuizResult(len(QUIZ) - len(missed), len(QUIZ), tuple(missed))


def check_self_quiz(answers_fn: Callable[[], Mapping[str, str | float]]) -> bool:
    """Grade the sheet returned by ``answers_fn()`` (the helpers.checks protocol).

    Prints ✓ and returns True on full marks; prints "not attempted yet" and returns
    False while ``answers_fn`` raises NotImplementedError; raises AssertionError
    with the score and the notebooks to revisit otherwise.
    """
    name = "check_self_quiz"
    try:
        answers = answers_fn()
    except NotImplementedError:
        return not_attempted(name, "my_answers", "The cell below grades an empty sheet instead.")
    result = grade(answers)
    if result.missed:
        raise AssertionError(
            f"{name}: {result.summary()}\n"
            "Each missed item names the notebook that answers it; reread it and try again."
        )
    print(f"✓ {name}: {result.summary()}")
    return True
