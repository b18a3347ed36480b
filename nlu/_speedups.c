/* Compiled inner loops of the NLU serving path (optional: nlu/speedups.py falls back
 * to the pure-Python versions, which stay the reference the tests compare against).
 *
 * Why C: per message the Python versions build and hash a few hundred tiny strings
 * (jieba fragments, word pairs, character n-grams) and gather rows of a mostly empty
 * FAQ matrix; that interpreter and allocator work is most of the time a message costs.
 * The lookups still go through the same Python dicts, so results are identical.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* ---- jieba DAG + best route (nlu.tokenizer._cut_block) ------------------------- */

static int
is_ascii_alnum(Py_UCS4 ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Look a fragment up in the word table's cache, filling it through `fill` on a miss.
 * Returns a new reference, or NULL with an exception set. */
static PyObject *
lookup_fragment(PyObject *cache, PyObject *fill, PyObject *fragment)
{
    PyObject *value = PyDict_GetItemWithError(cache, fragment);
    if (value != NULL) {
        Py_INCREF(value);
        return value;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyObject_CallOneArg(fill, fragment);
}

static int
append_slice(PyObject *words, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *word = PyUnicode_Substring(text, start, end);
    if (word == NULL) {
        return -1;
    }
    int failed = PyList_Append(words, word);
    Py_DECREF(word);
    return failed;
}

/* Follow the route; runs of single ASCII letters/digits are glued (nlu.tokenizer._glue). */
static PyObject *
glue(PyObject *text, const Py_ssize_t *route, Py_ssize_t n)
{
    PyObject *words = PyList_New(0);
    if (words == NULL) {
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t buffer_start = -1;  /* start of the pending run of single letters/digits */
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = route[i] + 1;
        if (j - i == 1 && is_ascii_alnum(PyUnicode_READ(kind, data, i))) {
            if (buffer_start < 0) {
                buffer_start = i;
            }
        }
        else {
            if (buffer_start >= 0) {
                if (append_slice(words, text, buffer_start, i) < 0) {
                    goto error;
                }
                buffer_start = -1;
            }
            if (append_slice(words, text, i, j) < 0) {
                goto error;
            }
        }
        i = j;
    }
    if (buffer_start >= 0 && append_slice(words, text, buffer_start, n) < 0) {
        goto error;
    }
    return words;
error:
    Py_DECREF(words);
    return NULL;
}

static PyObject *
cut_block(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "cut_block(text, cache, fill, absent, unknown)");
        return NULL;
    }
    PyObject *text = args[0], *cache = args[1], *fill = args[2], *absent = args[3];
    if (!PyUnicode_Check(text) || !PyDict_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "cut_block: text must be str, cache a dict");
        return NULL;
    }
    double unknown = PyFloat_AsDouble(args[4]);
    if (unknown == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    double *best = PyMem_Malloc((n + 1) * sizeof(double));
    Py_ssize_t *route = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    PyObject *result = NULL;
    if (best == NULL || route == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    best[n] = 0.0;
    route[n] = 0;
    for (Py_ssize_t start = n - 1; start >= 0; start--) {
        int found = 0;
        double top_value = 0.0;
        Py_ssize_t top_end = start;
        for (Py_ssize_t end = start; end < n; end++) {
            PyObject *fragment = PyUnicode_Substring(text, start, end + 1);
            if (fragment == NULL) {
                goto done;
            }
            PyObject *logp = lookup_fragment(cache, fill, fragment);
            Py_DECREF(fragment);
            if (logp == NULL) {
                goto done;
            }
            if (logp == absent) {
                Py_DECREF(logp);
                break;
            }
            if (logp != Py_None) {
                double value = PyFloat_AsDouble(logp) + best[end + 1];
                if (value == -1.0 && PyErr_Occurred()) {
                    Py_DECREF(logp);
                    goto done;
                }
                /* Ends rise, so >= keeps the longest of equal routes, as jieba's max does. */
                if (!found || value >= top_value) {
                    found = 1;
                    top_value = value;
                    top_end = end;
                }
            }
            Py_DECREF(logp);
        }
        if (!found) {
            top_value = unknown + best[start + 1];
        }
        best[start] = top_value;
        route[start] = top_end;
    }
    result = glue(text, route, n);
done:
    PyMem_Free(best);
    PyMem_Free(route);
    return result;
}

/* ---- features (nlu.features.Vectorizer.transform_text) -------------------------- */

/* Columns in first-seen order with their counts; an open-addressing index finds a
 * column's slot. Sized for the most keys a message can have, so it never fills. */
typedef struct {
    Py_ssize_t *columns;
    long *counts;
    Py_ssize_t used;
    Py_ssize_t *slots;  /* position in columns + 1; 0 = empty */
    size_t mask;
} Counter;

static int
counter_init(Counter *c, Py_ssize_t most)
{
    size_t size = 16;
    while (size < (size_t)most * 2) {
        size <<= 1;
    }
    c->columns = PyMem_Malloc((most + 1) * sizeof(Py_ssize_t));
    c->counts = PyMem_Malloc((most + 1) * sizeof(long));
    c->slots = PyMem_Calloc(size, sizeof(Py_ssize_t));
    c->used = 0;
    c->mask = size - 1;
    if (c->columns == NULL || c->counts == NULL || c->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
counter_free(Counter *c)
{
    PyMem_Free(c->columns);
    PyMem_Free(c->counts);
    PyMem_Free(c->slots);
}

static void
counter_add(Counter *c, Py_ssize_t column)
{
    size_t at = ((size_t)column * 2654435761u) & c->mask;
    while (c->slots[at]) {
        Py_ssize_t position = c->slots[at] - 1;
        if (c->columns[position] == column) {
            c->counts[position]++;
            return;
        }
        at = (at + 1) & c->mask;
    }
    c->columns[c->used] = column;
    c->counts[c->used] = 1;
    c->slots[at] = ++c->used;
}

/* Count a key's column if the table knows it (values are column + 1). */
static int
count_key(PyObject *table, PyObject *key, Counter *counter, Py_ssize_t n_columns)
{
    PyObject *found = PyDict_GetItemWithError(table, key);
    if (found == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_ssize_t column = PyLong_AsSsize_t(found) - 1;
    if (column < 0 || column >= n_columns) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_IndexError, "transform: column out of range");
        }
        return -1;
    }
    counter_add(counter, column);
    return 0;
}

static int
count_slices(PyObject *table, PyObject *text, Py_ssize_t width, Counter *counter,
             Py_ssize_t n_columns)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i + width <= n; i++) {
        PyObject *gram = PyUnicode_Substring(text, i, i + width);
        if (gram == NULL) {
            return -1;
        }
        int failed = count_key(table, gram, counter, n_columns);
        Py_DECREF(gram);
        if (failed) {
            return -1;
        }
    }
    return 0;
}

/* "a|b", the name of a word pair, built without format parsing. */
static PyObject *
join_pair(PyObject *a, PyObject *b)
{
    if (!PyUnicode_Check(a) || !PyUnicode_Check(b)) {
        PyErr_SetString(PyExc_TypeError, "transform: words must be str");
        return NULL;
    }
    Py_ssize_t la = PyUnicode_GET_LENGTH(a), lb = PyUnicode_GET_LENGTH(b);
    Py_UCS4 max_a = PyUnicode_MAX_CHAR_VALUE(a), max_b = PyUnicode_MAX_CHAR_VALUE(b);
    PyObject *pair = PyUnicode_New(la + 1 + lb, max_a > max_b ? max_a : max_b);
    if (pair == NULL) {
        return NULL;
    }
    if (PyUnicode_CopyCharacters(pair, 0, a, 0, la) < 0
        || PyUnicode_WriteChar(pair, la, '|') < 0
        || PyUnicode_CopyCharacters(pair, la + 1, b, 0, lb) < 0) {
        Py_DECREF(pair);
        return NULL;
    }
    return pair;
}

static int
count_all(PyObject *words, PyObject *padded, PyObject *const *tables, Counter *counter,
          Py_ssize_t n_columns)
{
    Py_ssize_t n = PyList_GET_SIZE(words);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (count_key(tables[0], PyList_GET_ITEM(words, i), counter, n_columns) < 0) {
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        PyObject *pair = join_pair(PyList_GET_ITEM(words, i), PyList_GET_ITEM(words, i + 1));
        if (pair == NULL) {
            return -1;
        }
        int failed = count_key(tables[1], pair, counter, n_columns);
        Py_DECREF(pair);
        if (failed) {
            return -1;
        }
    }
    if (count_slices(tables[2], padded, 1, counter, n_columns) < 0
        || count_slices(tables[2], padded, 2, counter, n_columns) < 0) {
        return -1;
    }
    return 0;
}

/* transform(words, padded, words_table, pairs_table, grams_table, idf) ->
 *     (int64 columns as bytes, float64 values as bytes)
 * Sublinear tf x idf, l2-normalized, columns in first-seen order; the sums run in
 * the order of Vectorizer._weighted, so the floats are the same. */
static PyObject *
transform(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "transform(words, padded, words_table, pairs_table, grams_table, idf)");
        return NULL;
    }
    PyObject *words = args[0], *padded = args[1], *idf = args[5];
    if (!PyList_Check(words) || !PyUnicode_Check(padded) || !PyDict_Check(args[2])
        || !PyDict_Check(args[3]) || !PyDict_Check(args[4]) || !PyList_Check(idf)) {
        PyErr_SetString(PyExc_TypeError, "transform: a list, a str, three dicts and a list");
        return NULL;
    }
    Py_ssize_t n_columns = PyList_GET_SIZE(idf);
    Py_ssize_t most = 2 * PyList_GET_SIZE(words) + 2 * PyUnicode_GET_LENGTH(padded);
    Counter counter;
    PyObject *result = NULL, *columns = NULL, *values = NULL;
    if (counter_init(&counter, most) < 0 || count_all(words, padded, args + 2, &counter,
                                                      n_columns) < 0) {
        goto done;
    }
    columns = PyBytes_FromStringAndSize(NULL, counter.used * sizeof(int64_t));
    values = PyBytes_FromStringAndSize(NULL, counter.used * sizeof(double));
    if (columns == NULL || values == NULL) {
        goto done;
    }
    int64_t *out_columns = (int64_t *)PyBytes_AS_STRING(columns);
    double *out_values = (double *)PyBytes_AS_STRING(values);
    double total = 0.0;
    for (Py_ssize_t i = 0; i < counter.used; i++) {
        PyObject *weight = PyList_GET_ITEM(idf, counter.columns[i]);
        double value = PyFloat_AsDouble(weight);
        if (value == -1.0 && PyErr_Occurred()) {
            goto done;
        }
        if (counter.counts[i] > 1) {
            value *= 1.0 + log((double)counter.counts[i]);
        }
        out_columns[i] = counter.columns[i];
        out_values[i] = value;
        total += value * value;
    }
    double norm = sqrt(total);
    for (Py_ssize_t i = 0; i < counter.used; i++) {
        out_values[i] /= norm;
    }
    result = PyTuple_Pack(2, columns, values);
done:
    counter_free(&counter);
    Py_XDECREF(columns);
    Py_XDECREF(values);
    return result;
}

/* ---- FAQ retrieval (nlu.retrieval.FaqRetriever.scores) -------------------------- */

/* Weighted sum of sparse term rows per document, then the best document per entry.
 *
 * rows/weights: the query's terms (rows of the term x document matrix) and weights;
 * indptr/indices/data: that matrix as CSR (int64, int32, float64);
 * starts: the first document of every entry (int64), documents grouped by entry.
 */
static PyObject *
sparse_best(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "sparse_best(rows, weights, indptr, indices, data, starts, n_docs)");
        return NULL;
    }
    PyObject *rows = args[0], *weights = args[1];
    if (!PyList_Check(rows) || !PyList_Check(weights)
        || PyList_GET_SIZE(rows) != PyList_GET_SIZE(weights)) {
        PyErr_SetString(PyExc_TypeError, "sparse_best: rows and weights, lists of one length");
        return NULL;
    }
    Py_ssize_t n_docs = PyLong_AsSsize_t(args[6]);
    if (n_docs < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "sparse_best: n_docs < 0");
        }
        return NULL;
    }
    Py_buffer indptr = {0}, indices = {0}, data = {0}, starts = {0};
    PyObject *result = NULL;
    double *docs = NULL;
    if (PyObject_GetBuffer(args[2], &indptr, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0
        || PyObject_GetBuffer(args[3], &indices, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0
        || PyObject_GetBuffer(args[4], &data, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0
        || PyObject_GetBuffer(args[5], &starts, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        goto done;
    }
    if (indptr.itemsize != 8 || indices.itemsize != 4 || data.itemsize != 8
        || starts.itemsize != 8 || indices.len / 4 != data.len / 8) {
        PyErr_SetString(PyExc_TypeError, "sparse_best: int64 indptr/starts, int32 indices, "
                                         "float64 data");
        goto done;
    }
    const int64_t *ptr = indptr.buf;
    const int32_t *doc_of = indices.buf;
    const double *value = data.buf;
    const int64_t *first = starts.buf;
    Py_ssize_t n_rows = indptr.len / 8 - 1, n_nonzero = data.len / 8;
    Py_ssize_t n_entries = starts.len / 8;
    docs = PyMem_Calloc(n_docs > 0 ? n_docs : 1, sizeof(double));
    if (docs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(rows); k++) {
        Py_ssize_t row = PyLong_AsSsize_t(PyList_GET_ITEM(rows, k));
        double weight = PyFloat_AsDouble(PyList_GET_ITEM(weights, k));
        if (PyErr_Occurred()) {
            goto done;
        }
        if (row < 0 || row >= n_rows || ptr[row] < 0 || ptr[row + 1] > n_nonzero) {
            PyErr_SetString(PyExc_IndexError, "sparse_best: row out of range");
            goto done;
        }
        for (int64_t at = ptr[row]; at < ptr[row + 1]; at++) {
            if (doc_of[at] < 0 || doc_of[at] >= n_docs) {
                PyErr_SetString(PyExc_IndexError, "sparse_best: document out of range");
                goto done;
            }
            docs[doc_of[at]] += weight * value[at];
        }
    }
    result = PyList_New(n_entries);
    if (result == NULL) {
        goto done;
    }
    for (Py_ssize_t e = 0; e < n_entries; e++) {
        Py_ssize_t lo = first[e], hi = e + 1 < n_entries ? first[e + 1] : n_docs;
        double top = 0.0;
        if (lo < 0 || hi > n_docs || lo >= hi) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_IndexError, "sparse_best: bad entry starts");
            goto done;
        }
        top = docs[lo];
        for (Py_ssize_t d = lo + 1; d < hi; d++) {
            if (docs[d] > top) {
                top = docs[d];
            }
        }
        PyObject *number = PyFloat_FromDouble(top);
        if (number == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, e, number);
    }
done:
    PyMem_Free(docs);
    if (indptr.obj) PyBuffer_Release(&indptr);
    if (indices.obj) PyBuffer_Release(&indices);
    if (data.obj) PyBuffer_Release(&data);
    if (starts.obj) PyBuffer_Release(&starts);
    return result;
}

/* Borrow a C-contiguous buffer of the given item size; -1 with TypeError otherwise. */
static int
get_buffer(PyObject *object, Py_buffer *view, Py_ssize_t itemsize, const char *what)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (view->len % itemsize || (view->itemsize != itemsize && view->itemsize != 1)) {
        PyBuffer_Release(view);
        view->obj = NULL;
        PyErr_Format(PyExc_TypeError, "%s: items of %zd bytes expected", what, itemsize);
        return -1;
    }
    return 0;
}

static void
release(Py_buffer *view)
{
    if (view->obj) {
        PyBuffer_Release(view);
    }
}

/* Softmax of raw[lo:hi] / temperature, as a new list. */
static PyObject *
softmax_list(const double *raw, Py_ssize_t lo, Py_ssize_t hi, double temperature)
{
    Py_ssize_t n = hi - lo;
    PyObject *result = PyList_New(n);
    double *exps = PyMem_Malloc((n > 0 ? n : 1) * sizeof(double));
    if (result == NULL || exps == NULL) {
        Py_XDECREF(result);
        PyMem_Free(exps);
        return PyErr_NoMemory();
    }
    double top = -HUGE_VAL, total = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (raw[lo + i] / temperature > top) {
            top = raw[lo + i] / temperature;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        exps[i] = exp(raw[lo + i] / temperature - top);
        total += exps[i];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *number = PyFloat_FromDouble(exps[i] / total);
        if (number == NULL) {
            Py_DECREF(result);
            PyMem_Free(exps);
            return NULL;
        }
        PyList_SET_ITEM(result, i, number);
    }
    PyMem_Free(exps);
    return result;
}

/* linear_softmax(columns, values, weights, bias, split, t_first, t_second) ->
 *     (softmax(raw[:split] / t_first), softmax(raw[split:] / t_second))
 * raw = values @ weights[columns] + bias: two linear classifiers side by side
 * (weights: float64, features x labels, C order). */
static PyObject *
linear_softmax(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "linear_softmax(columns, values, weights, bias, "
                                         "split, t_first, t_second)");
        return NULL;
    }
    Py_buffer columns = {0}, values = {0}, weights = {0}, bias = {0};
    PyObject *first = NULL, *second = NULL, *result = NULL;
    double *raw = NULL;
    Py_ssize_t split = PyLong_AsSsize_t(args[4]);
    double t_first = PyFloat_AsDouble(args[5]), t_second = PyFloat_AsDouble(args[6]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (get_buffer(args[0], &columns, 8, "columns") < 0
        || get_buffer(args[1], &values, 8, "values") < 0
        || get_buffer(args[2], &weights, 8, "weights") < 0
        || get_buffer(args[3], &bias, 8, "bias") < 0) {
        goto done;
    }
    Py_ssize_t n = columns.len / 8, labels = bias.len / 8;
    Py_ssize_t features = labels ? weights.len / 8 / labels : 0;
    if (values.len / 8 != n || labels == 0 || features * labels * 8 != weights.len
        || split < 0 || split > labels || t_first <= 0 || t_second <= 0) {
        PyErr_SetString(PyExc_ValueError, "linear_softmax: shapes or temperatures do not fit");
        goto done;
    }
    const int64_t *column = columns.buf;
    const double *value = values.buf, *w = weights.buf, *b = bias.buf;
    raw = PyMem_Calloc(labels, sizeof(double));
    if (raw == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (column[i] < 0 || column[i] >= features) {
            PyErr_SetString(PyExc_IndexError, "linear_softmax: column out of range");
            goto done;
        }
        const double *row = w + column[i] * labels;
        for (Py_ssize_t j = 0; j < labels; j++) {
            raw[j] += value[i] * row[j];
        }
    }
    for (Py_ssize_t j = 0; j < labels; j++) {
        raw[j] += b[j];
    }
    first = softmax_list(raw, 0, split, t_first);
    second = first ? softmax_list(raw, split, labels, t_second) : NULL;
    if (second != NULL) {
        result = PyTuple_Pack(2, first, second);
    }
done:
    PyMem_Free(raw);
    Py_XDECREF(first);
    Py_XDECREF(second);
    release(&columns);
    release(&values);
    release(&weights);
    release(&bias);
    return result;
}

/* faq_best(terms, grams, index) -> per-entry scores before keyword bonus, or None when
 * the index knows no term of the query (nlu.retrieval.FaqRetriever.scores).
 * index: (word_rows, gram_rows, row_idf, word_max_idf, gram_max_idf, bm25_weight,
 *         indptr, indices, data, starts, n_docs). */
static PyObject *
faq_best(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyAnySet_Check(args[0]) || !PyAnySet_Check(args[1])
        || !PyTuple_Check(args[2]) || PyTuple_GET_SIZE(args[2]) != 11) {
        PyErr_SetString(PyExc_TypeError, "faq_best(terms: set, grams: set, index: 11-tuple)");
        return NULL;
    }
    PyObject *index = args[2];
    PyObject *word_rows = PyTuple_GET_ITEM(index, 0), *gram_rows = PyTuple_GET_ITEM(index, 1);
    PyObject *row_idf = PyTuple_GET_ITEM(index, 2);
    double word_max = PyFloat_AsDouble(PyTuple_GET_ITEM(index, 3));
    double gram_max = PyFloat_AsDouble(PyTuple_GET_ITEM(index, 4));
    double bm25_weight = PyFloat_AsDouble(PyTuple_GET_ITEM(index, 5));
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (!PyDict_Check(word_rows) || !PyDict_Check(gram_rows) || !PyList_Check(row_idf)) {
        PyErr_SetString(PyExc_TypeError, "faq_best: index holds two dicts and a list first");
        return NULL;
    }
    Py_ssize_t n_terms = PySet_GET_SIZE(args[0]), n_grams = PySet_GET_SIZE(args[1]);
    PyObject *rows = PyList_New(0), *weights = PyList_New(0), *result = NULL;
    double *idf = PyMem_Malloc((n_terms + n_grams + 1) * sizeof(double));
    if (rows == NULL || weights == NULL || idf == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t known_words = 0, known_grams = 0;
    double word_total = 0.0, gram_squares = 0.0;
    for (int kind = 0; kind < 2; kind++) {
        PyObject *keys = kind ? args[1] : args[0], *table = kind ? gram_rows : word_rows;
        PyObject *iterator = PyObject_GetIter(keys), *key;
        if (iterator == NULL) {
            goto done;
        }
        while ((key = PyIter_Next(iterator)) != NULL) {
            PyObject *row = PyDict_GetItemWithError(table, key);
            Py_DECREF(key);
            if (row == NULL) {
                if (PyErr_Occurred()) {
                    Py_DECREF(iterator);
                    goto done;
                }
                continue;
            }
            Py_ssize_t r = PyLong_AsSsize_t(row);
            if (r < 0 || r >= PyList_GET_SIZE(row_idf)) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_IndexError, "faq_best: row out of range");
                }
                Py_DECREF(iterator);
                goto done;
            }
            double x = PyFloat_AsDouble(PyList_GET_ITEM(row_idf, r));
            if (PyErr_Occurred() || PyList_Append(rows, row) < 0) {
                Py_DECREF(iterator);
                goto done;
            }
            idf[known_words + known_grams] = x;
            if (kind) {
                known_grams++;
                gram_squares += x * x;
            }
            else {
                known_words++;
                word_total += x;
            }
        }
        Py_DECREF(iterator);
        if (PyErr_Occurred()) {
            goto done;
        }
    }
    if (known_words + known_grams == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* Unknown terms count with the highest idf: what the KB never says lowers the score. */
    word_total += (n_terms - known_words) * word_max;
    double gram_total = sqrt(gram_squares + (n_grams - known_grams) * (gram_max * gram_max));
    double word_share = known_words ? bm25_weight / word_total : 0.0;
    double gram_share = known_grams ? (1 - bm25_weight) / gram_total : 0.0;
    for (Py_ssize_t i = 0; i < known_words + known_grams; i++) {
        PyObject *number = PyFloat_FromDouble(idf[i] * (i < known_words ? word_share
                                                                          : gram_share));
        if (number == NULL || PyList_Append(weights, number) < 0) {
            Py_XDECREF(number);
            goto done;
        }
        Py_DECREF(number);
    }
    PyObject *call[7] = {rows, weights};
    for (int i = 0; i < 5; i++) {
        call[2 + i] = PyTuple_GET_ITEM(index, 6 + i);
    }
    result = sparse_best(module, call, 7);
done:
    PyMem_Free(idf);
    Py_XDECREF(rows);
    Py_XDECREF(weights);
    return result;
}

static PyMethodDef methods[] = {
    {"cut_block", (PyCFunction)(void (*)(void))cut_block, METH_FASTCALL,
     "jieba's DAG + best route for one block: (text, cache, fill, absent, unknown) -> words"},
    {"transform", (PyCFunction)(void (*)(void))transform, METH_FASTCALL,
     "A message's TF-IDF row: (int64 columns, float64 values) as bytes"},
    {"linear_softmax", (PyCFunction)(void (*)(void))linear_softmax, METH_FASTCALL,
     "Calibrated probabilities of two linear classifiers over one sparse row"},
    {"faq_best", (PyCFunction)(void (*)(void))faq_best, METH_FASTCALL,
     "Per entry, the best question's BM25 + bigram-cosine score of a query"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "nlu._speedups",
    "Compiled inner loops of the NLU serving path (see nlu/speedups.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
