# ruff: noqa
"""The source article's three code samples, copied as written — bugs included.

Source: ``shared/seed/source-article.md`` (题目 4, 题目 5 and §4 源代码实例).
The code lines below are the article's, verbatim, including its Chinese
comments; they are only wrapped (in a function, or renamed) so the tests can
call them. They are *fixtures of wrong answers*: ``tests/test_checks.py`` checks
that ``helpers.checks`` rejects each of them with a message that names the
mistake. Do not "fix" anything here.
"""


# --- 题目 4: LSTM classifier -------------------------------------------------
def article_q4_build(t, n):
    """The question-4 model built and compiled exactly as the article writes it.

    The article's last line, ``model.fit(X, Y, epochs=10, batch_size=32)``, is
    left out: ``X`` and ``Y`` are never defined in the article (only described
    in its comments), and the checks do not train.
    """
    import numpy as np
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.layers import LSTM, Dense

    # 假设已有处理好的用户行为序列数据X和标签Y
    # X是形状为(m, t, n)的numpy数组，其中m是样本数，t是时间步数，n是特征数
    # Y是形状为(m,)的numpy数组，表示每个样本的分类标签

    # 构建LSTM模型
    model = Sequential()
    model.add(LSTM(units=50, activation='relu', input_shape=(t, n)))
    model.add(Dense(units=1, activation='sigmoid'))

    # 编译模型
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

    # 训练模型
    # model.fit(X, Y, epochs=10, batch_size=32)  -- left out: X, Y undefined in the article
    return model


# --- 题目 5: attention layer -------------------------------------------------
def _define_article_attention_layer():
    """Runs the article's question-5 code (verbatim below) and returns its class.

    The class is defined inside this function so the module has no top-level
    ``AttentionLayer`` to clash with ``helpers.AttentionLayer``; the article's
    ``super(AttentionLayer, self)`` calls still find their class (a closure).
    """
    import tensorflow as tf
    from tensorflow.keras.layers import Layer

    # 自定义注意力层
    class AttentionLayer(Layer):
        def __init__(self, **kwargs):
            super(AttentionLayer, self).__init__(**kwargs)

        def build(self, input_shape):
            # 创建权重和偏置
            self.W = self.add_weight(name='attention_weight', shape=(input_shape[-1], 1), initializer='random_normal', trainable=True)
            self.b = self.add_weight(name='attention_bias', shape=(input_shape[-1], 1), initializer='zeros', trainable=True)
            super(AttentionLayer, self).build(input_shape)

        def call(self, inputs, training=False):
            # inputs是形状为(m, t, n)的tensor
            # 计算注意力得分
            score = tf.matmul(inputs, self.W) + self.b
            # 应用softmax激活函数
            attention_weights = tf.nn.softmax(score, axis=1)
            # 计算加权输入
            context_vector = attention_weights * inputs
            context_vector = tf.reduce_sum(context_vector, axis=1)
            return context_vector

        def get_config(self):
            config = super(AttentionLayer, self).get_config().copy()
            config.update({'W': self.W, 'b': self.b})
            return config

    return AttentionLayer


# The article's class (its own name is still ``AttentionLayer``).
ArticleAttentionLayer = _define_article_attention_layer()


# --- §4 源代码实例: LSTM + attention model -----------------------------------
def article_full_model_build():
    """The §4 model built exactly as the article writes it (raises while building).

    The article never defines ``vocab_size``, ``embed_dim``,
    ``max_sequence_length`` or ``feature_dim``; the block below gives them
    plausible values. ``AttentionLayer`` is the article's own question-5 layer.
    ``model.summary()`` is kept but never reached: building fails first.
    """
    import tensorflow as tf
    from tensorflow.keras.models import Model
    from tensorflow.keras.layers import LSTM, Dense, Embedding, Input, Flatten, concatenate

    # --- placeholders the article leaves undefined (not part of the article) ---
    vocab_size = 1001  # item ids 1..1000, 0 = padding
    embed_dim = 16
    max_sequence_length = 30
    feature_dim = 8
    AttentionLayer = ArticleAttentionLayer  # the article's question-5 layer
    # --- end of placeholders; the article's code follows verbatim ---

    # 假设词汇表大小为vocab_size，每个词汇的嵌入维度为embed_dim
    # 用户行为序列的长度为max_sequence_length，每个时间步的维度为feature_dim

    # 输入层
    input_sequence = Input(shape=(max_sequence_length, feature_dim))

    # 嵌入层
    embed = Embedding(vocab_size, embed_dim)(input_sequence)

    # LSTM层
    lstm_output, state_h, state_c = LSTM(units=50, return_sequences=True, return_state=True)(embed)

    # 注意力层
    attention = AttentionLayer()(lstm_output)

    # 全连接层
    dense = Dense(units=1, activation='sigmoid')(Flatten()(attention))

    # 模型编译
    model = Model(inputs=input_sequence, outputs=dense)
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

    # 模型总结
    model.summary()

    # 训练模型
    # model.fit(X, Y, epochs=10, batch_size=32)
    return model
