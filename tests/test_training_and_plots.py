"""helpers.training (fit_best, score) and helpers.plots (shared figures)."""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.data import make_dataset  # noqa: E402
from helpers.models import build_lstm_attention_model  # noqa: E402
from helpers.training import fit_best, score  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_dataset(400, seed=1)


def test_score_matches_sklearn_and_rejects_bad_input():
    labels = np.array([0, 1, 0, 1, 1])
    probs = np.array([0.1, 0.8, 0.4, 0.35, 0.9])
    assert score(labels, probs)["roc_auc"] == round(roc_auc_score(labels, probs), 4)
    with pytest.raises(ValueError, match="one value per sequence"):
        score(labels, probs[:4])
    with pytest.raises(ValueError, match="one class only"):
        score(np.zeros(5), probs)


def test_fit_best_restores_the_best_validation_epoch(data):
    keras.utils.set_random_seed(0)
    model = build_lstm_attention_model(lstm_units=4)
    model, history, seconds = fit_best(
        model, data.inputs(), data.labels, (data.inputs(), data.labels), epochs=3
    )
    best = max(history.history["val_roc_auc"])
    assert best > min(history.history["val_roc_auc"])  # the epochs differ, so the test can fail
    restored = model.evaluate(data.inputs(), data.labels, verbose=0, return_dict=True)
    assert restored["roc_auc"] == pytest.approx(best, abs=1e-5)
    assert seconds > 0
    # the epoch it reports is the one it restored, counted from 1
    assert history.best_epoch == int(np.argmax(history.history["val_roc_auc"])) + 1


def _model_with_unbuilt_adam():
    keras.utils.set_random_seed(0)
    model = build_lstm_attention_model(lstm_units=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="roc_auc")])  # a fresh Adam, not built yet
    assert not model.optimizer.built
    return model


def test_fit_best_builds_adam_before_fit(data, monkeypatch):
    model, seen = _model_with_unbuilt_adam(), []

    def fit_that_only_looks(*args, **kwargs):
        seen.append(model.optimizer.built)
        raise InterruptedError  # nothing trained: stop fit_best here

    monkeypatch.setattr(model, "fit", fit_that_only_looks)
    with pytest.raises(InterruptedError):
        fit_best(model, data.inputs(), data.labels, (data.inputs(), data.labels), epochs=1)
    assert seen == [True]  # built before fit traces its first step (else it traces twice)


def test_building_adam_early_trains_the_same_weights(data):
    trained = []
    for early in (False, True):
        model = _model_with_unbuilt_adam()
        if early:
            model.optimizer.build(model.trainable_variables)
        keras.utils.set_random_seed(1)
        model.fit(data.inputs(), data.labels, epochs=2, batch_size=64, verbose=0)
        trained.append(model.get_weights())
    for late, early in zip(*trained, strict=True):
        np.testing.assert_array_equal(late, early)


def test_attention_bars_draw_one_bar_per_real_event(data):
    row = int(np.argmax(data.lengths < data.max_len))
    length = int(data.lengths[row])
    weights = np.full(data.max_len, 1.0 / length)
    ax = plots.attention_bars(weights, data.behavior_ids[row])
    assert len(ax.patches) == length
    assert [t.get_text() for t in ax.get_xticklabels()] == plots.behavior_names(
        data.behavior_ids[row]
    )
    plt.close("all")


def test_other_figures_draw(data):
    plots.session_timeline(data, 0)
    plots.attention_heatmap(np.ones((3, data.max_len)), data.behavior_ids[:3])
    axes = plots.roc_pr_curves(
        data.labels, {"random": np.linspace(0, 1, len(data))}, true_prob=data.true_prob
    )
    assert len(axes[0].lines) == 3  # model, Bayes, diagonal
    plt.close("all")


def test_fit_best_rejects_a_monitor_the_model_does_not_compute(data):
    model = build_lstm_attention_model(lstm_units=4)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match=r"metrics \['accuracy'\]: add keras.metrics.AUC"):
        fit_best(model, data.inputs(), data.labels, (data.inputs(), data.labels), epochs=1)
    with pytest.raises(ValueError, match=r"monitors 'val_pr_auc'.*\['accuracy', 'loss'\]"):
        fit_best(
            model,
            data.inputs(),
            data.labels,
            (data.inputs(), data.labels),
            epochs=1,
            monitor="val_pr_auc",
        )


@pytest.fixture
def early_stopping_kwargs(monkeypatch):
    """The keyword arguments of every ``keras.callbacks.EarlyStopping`` made in the test."""
    made, original = [], keras.callbacks.EarlyStopping.__init__

    def spy(self, **kwargs):
        made.append(kwargs)
        original(self, **kwargs)

    monkeypatch.setattr(keras.callbacks.EarlyStopping, "__init__", spy)
    return made


@pytest.mark.parametrize("metric", ["auc", "AUC_OBJECT"])
def test_fit_best_finds_an_roc_auc_metric_under_any_name(data, metric, early_stopping_kwargs):
    """A learner's keras.metrics.AUC() is logged as 'auc', not 'roc_auc'."""
    model = build_lstm_attention_model(lstm_units=4)
    auc = keras.metrics.AUC(curve="PR", name="pr") if metric == "AUC_OBJECT" else "auc"
    metrics = [auc, keras.metrics.AUC(name="my_auc")] if metric == "AUC_OBJECT" else [auc]
    model.compile("adam", "binary_crossentropy", metrics=metrics)
    fit_best(model, data.inputs(), data.labels, (data.inputs(), data.labels), epochs=1)
    (seen,) = early_stopping_kwargs
    assert seen["monitor"] == ("val_my_auc" if metric == "AUC_OBJECT" else "val_auc")
    assert seen["mode"] == "max"


def test_fit_best_minimises_loss(data, early_stopping_kwargs):
    keras.utils.set_random_seed(0)
    _, history, _ = fit_best(
        build_lstm_attention_model(lstm_units=4, learning_rate=1e-2),
        data.inputs(),
        data.labels,
        (data.inputs(), data.labels),
        epochs=3,
        monitor="val_loss",
    )
    (seen,) = early_stopping_kwargs
    assert seen["mode"] == "min"
    losses = history.history["val_loss"]
    assert int(np.argmin(losses)) > 0  # the best is not the first epoch, so the check can fail
    assert history.best_epoch == int(np.argmin(losses)) + 1


def test_fit_best_patience_stops_once_validation_stops_improving(data, early_stopping_kwargs):
    keras.utils.set_random_seed(0)
    flipped = 1 - data.labels  # the better it learns the labels, the worse it scores here
    model = build_lstm_attention_model(lstm_units=4, learning_rate=1e-2)
    _, history, _ = fit_best(model, data.inputs(), data.labels, (data.inputs(), flipped),
                             epochs=6, patience=1)  # fmt: skip
    assert [kw["patience"] for kw in early_stopping_kwargs] == [1]
    assert len(history.history["loss"]) < 6  # stopped early
    # the best epoch counts the epochs that ran, not the ones asked for
    assert history.best_epoch == int(np.argmax(history.history["val_roc_auc"])) + 1
    fit_best(model, data.inputs(), data.labels, (data.inputs(), flipped), epochs=2)
    # by default: patience = epochs, every epoch trains
    assert [kw["patience"] for kw in early_stopping_kwargs] == [1, 2]


class _RecordingBatches(keras.utils.PyDataset):
    """Four batches of ``data``; records the order in which ``fit`` asks for them."""

    def __init__(self, data):
        super().__init__()
        self.x, self.y, self.asked = data.inputs(), data.labels.astype("float32"), []

    def __len__(self):
        return 4

    def __getitem__(self, index):
        self.asked.append(index)
        rows = slice(index * 100, (index + 1) * 100)
        return {k: v[rows] for k, v in self.x.items()}, self.y[rows]


@pytest.mark.parametrize("shuffle", [False, True])
def test_fit_best_shuffle_false_keeps_the_datasets_batch_order(data, shuffle):
    keras.utils.set_random_seed(0)
    batches = _RecordingBatches(data)
    fit_best(build_lstm_attention_model(lstm_units=4), batches, None,
             (data.inputs(), data.labels), epochs=3, batch_size=None, shuffle=shuffle)  # fmt: skip
    in_order = batches.asked[-12:] == [0, 1, 2, 3] * 3  # (Keras first peeks at a batch or two)
    assert in_order is not shuffle  # Keras reorders a PyDataset's batches unless told not to
