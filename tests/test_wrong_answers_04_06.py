"""A typical wrong answer in notebooks 04-06 never blocks "Run All" nor poisons what follows.

Each test fills a question notebook's stub with a mistake learners really make
(the article's own version where there is one), runs the whole notebook as
"Run All" does, and checks that it reaches the end; that the check cell's output
*starts* with the ✗ line (no traceback, no wall of Keras warnings above it) and
names each mistake; and that the numbers downstream are the reference's, not the
wrong answer's.
"""

import re

from tests.wrong_answers import assert_reached_the_end, check_outputs, run_with_answers

# notebook 04: the article's model (relu, no masking, accuracy), written with keras.Input
ARTICLE_LSTM = """
model = keras.Sequential([
    keras.Input((timesteps, n_features)),
    keras.layers.LSTM(units=50, activation="relu"),
    keras.layers.Dense(units=1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
return model
"""

# notebook 05: everything right except the softmax, taken over the size-1 last axis of
# scores shaped (batch, time, 1): every weight is 1, the context is a plain sum
ATTENTION_STUBS = {
    0: """
features = input_shape[-1]
units = self.units or features
self.W = self.add_weight(name="W", shape=(features, units), initializer="glorot_uniform")
self.b = self.add_weight(name="b", shape=(units,), initializer="zeros")
self.v = self.add_weight(name="v", shape=(units, 1), initializer="glorot_uniform")
""",
    1: """
scores = ops.matmul(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v)  # (batch, time, 1)
if mask is not None:
    scores = ops.where(ops.expand_dims(mask, -1), scores, ops.full_like(scores, -1e9))
weights = ops.softmax(scores, axis=-1)
return ops.sum(inputs * weights, axis=1)
""",
    2: "return None",
    3: """
config = super().get_config()
config.update(units=self.units)
return config
""",
}

# notebook 06: float inputs, no mask_zero, accuracy
FLOAT_IDS_MODEL = """
item_ids = keras.Input((None,), dtype="float32", name="item_ids")
behavior_ids = keras.Input((None,), dtype="float32", name="behavior_ids")
items = keras.layers.Embedding(N_ITEMS + 1, 8)(item_ids)
behaviors = keras.layers.Embedding(N_BEHAVIORS, 8)(behavior_ids)
x = keras.layers.Concatenate()([items, behaviors])
x = keras.layers.LSTM(32, return_sequences=True)(x)
context, _ = helpers.AttentionLayer(return_attention=True, name="attention")(x)
outputs = keras.layers.Dense(1, activation="sigmoid")(context)
model = keras.Model({"item_ids": item_ids, "behavior_ids": behavior_ids}, outputs)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
return model
"""


def the_check(nb):
    outputs = check_outputs(nb)
    assert len(outputs) == 1, f"expected one exercise check cell, found {len(outputs)}"
    return outputs[0]


def assert_failed_visibly(printed, mistakes, reference):
    lines = printed.strip().splitlines()
    assert lines[0].startswith("✗"), f"the ✗ line must come first, got:\n{printed}"
    for name, pattern in mistakes.items():
        assert re.search(pattern, printed, re.I), f"the mistake '{name}' is not named:\n{printed}"
    assert f"continue with the reference {reference}" in printed, printed
    assert "Traceback" not in printed and "Warning" not in printed, printed
    repeated = [line for line in set(lines) if line.strip() and lines.count(line) > 1]
    assert not repeated, f"lines printed more than once: {repeated}"


def printed_by(nb, marker):
    """The output of the first code cell whose source contains ``marker``."""
    from tests.test_notebooks import output_text

    cell = next(c for c in nb.cells if c.cell_type == "code" and marker in c.source)
    return output_text(cell)


def test_04_article_model_as_answer():
    nb = run_with_answers("04_lstm_classifier", {0: ARTICLE_LSTM})
    assert_reached_the_end(nb)
    assert_failed_visibly(
        the_check(nb),
        {"relu": r"relu", "no masking": r"mask", "accuracy metric": r"accuracy"},
        "helpers.models.build_lstm_classifier",
    )
    # the cells below ran the reference: masked, so padding position changes nothing
    masking = printed_by(nb, "probe = build_model(t, n)")
    assert re.search(r"max \|p\(padding at end\) - p\(padding at start\)\| = 0\.0\b", masking)
    table = printed_by(nb, "as_written = 10 *")
    assert "masked tanh LSTM (build_model)" in table


def test_05_softmax_over_the_wrong_axis():
    nb = run_with_answers("05_attention_layer", ATTENTION_STUBS)
    assert_reached_the_end(nb)
    assert_failed_visibly(
        the_check(nb),
        {"softmax axis": r"axis|sum to 1"},
        "helpers.layers.AttentionLayer",
    )
    agreement = printed_by(nb, "keras_context = ops.convert_to_numpy")
    difference = float(re.search(r"max \|Keras - NumPy\| = (\S+)", agreement).group(1))
    assert difference < 1e-5, agreement
    assert "change in output when only padded values change: 0.0" in agreement


def test_06_float_ids_no_mask_accuracy():
    nb = run_with_answers("06_full_model", {0: FLOAT_IDS_MODEL})
    assert_reached_the_end(nb)
    assert_failed_visibly(
        the_check(nb),
        {"float ids": r"int|float", "no mask_zero": r"mask_zero|mask", "accuracy": r"accuracy"},
        "helpers.models.build_lstm_attention_model",
    )
    table = printed_by(nb, "gap to Bayes")
    rows = re.findall(r"^(order-blind counts|LSTM \+ attention)\s+(\d\.\d+)", table, re.M)
    roc = {name: float(value) for name, value in rows}
    assert roc["LSTM + attention"] > roc["order-blind counts"] + 0.03, table
