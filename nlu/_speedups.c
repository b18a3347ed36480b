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
#include <string.h>

/* ---- StrTable: a compact string -> number table ---------------------------------
 *
 * Python dicts keyed by str cost several cache misses per lookup (index, entry, key
 * object, value object) and need a str object to look up, so every fragment and
 * n-gram of a message would be allocated and hashed first. StrTable keeps 24-byte
 * slots and the keys' code points in one arena, and is looked up with code points
 * read straight from the message.
 */

enum { EMPTY = 0, VALUE = 1, PREFIX = 2, ABSENT = 3 };

typedef struct {
    uint64_t hash;
    double value;
    uint32_t offset;  /* key's code points in the arena */
    uint16_t length;
    uint8_t tag;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask;          /* slots - 1; slots is a power of two */
    size_t used;
    uint32_t *arena;
    size_t arena_used, arena_size;
    Py_ssize_t absent, absent_limit;  /* ABSENT entries remembered, and their bound */
} StrTable;

#define MAX_KEY 0xFFFF
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint64_t
hash_step(uint64_t hash, uint32_t code_point)
{
    return (hash ^ code_point) * FNV_PRIME;
}

static uint64_t
hash_of(const uint32_t *key, Py_ssize_t length)
{
    uint64_t hash = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < length; i++) {
        hash = hash_step(hash, key[i]);
    }
    return hash;
}

static inline size_t
home_of(const StrTable *table, uint64_t hash)
{
    return (size_t)((hash * 0x9E3779B97F4A7C15ULL) >> 20) & table->mask;
}

/* The slot holding the key, or NULL. */
static const Slot *
table_find(const StrTable *table, const uint32_t *key, Py_ssize_t length, uint64_t hash)
{
    if (length > MAX_KEY) {
        return NULL;
    }
    for (size_t at = home_of(table, hash);; at = (at + 1) & table->mask) {
        const Slot *slot = &table->slots[at];
        if (slot->tag == EMPTY) {
            return NULL;
        }
        if (slot->hash == hash && slot->length == length
            && memcmp(table->arena + slot->offset, key, length * sizeof(uint32_t)) == 0) {
            return slot;
        }
    }
}

static int
table_resize(StrTable *table, size_t size)
{
    Slot *slots = PyMem_Calloc(size, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Slot *old = table->slots;
    size_t old_size = old ? table->mask + 1 : 0;
    table->slots = slots;
    table->mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].tag != EMPTY) {
            size_t at = home_of(table, old[i].hash);
            while (slots[at].tag != EMPTY) {
                at = (at + 1) & table->mask;
            }
            slots[at] = old[i];
        }
    }
    PyMem_Free(old);
    return 0;
}

/* Add or replace a key; an ABSENT entry past the table's bound is not remembered. */
static int
table_put(StrTable *table, const uint32_t *key, Py_ssize_t length, uint64_t hash, int tag,
          double value)
{
    if (length > MAX_KEY) {
        return 0;  /* never looked up either: table_find refuses such keys */
    }
    Slot *found = (Slot *)table_find(table, key, length, hash);
    if (found != NULL) {
        if (found->tag == ABSENT && tag != ABSENT) {
            table->absent--;
        }
        else if (found->tag != ABSENT && tag == ABSENT) {
            table->absent++;
        }
        found->tag = (uint8_t)tag;
        found->value = value;
        return 0;
    }
    if (tag == ABSENT) {
        if (table->absent >= table->absent_limit) {
            return 0;
        }
        table->absent++;
    }
    if ((table->used + 1) * 2 > table->mask + 1 && table_resize(table, (table->mask + 1) * 2) < 0) {
        return -1;
    }
    if (table->arena_used + length > UINT32_MAX) {
        PyErr_SetString(PyExc_MemoryError, "StrTable: arena full");
        return -1;
    }
    if (table->arena_used + length > table->arena_size) {
        size_t size = table->arena_size ? table->arena_size : 1024;
        while (size < table->arena_used + length) {
            size *= 2;
        }
        uint32_t *arena = PyMem_Realloc(table->arena, size * sizeof(uint32_t));
        if (arena == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        table->arena = arena;
        table->arena_size = size;
    }
    memcpy(table->arena + table->arena_used, key, length * sizeof(uint32_t));
    size_t at = home_of(table, hash);
    while (table->slots[at].tag != EMPTY) {
        at = (at + 1) & table->mask;
    }
    Slot *slot = &table->slots[at];
    slot->hash = hash;
    slot->value = value;
    slot->offset = (uint32_t)table->arena_used;
    slot->length = (uint16_t)length;
    slot->tag = (uint8_t)tag;
    table->arena_used += length;
    table->used++;
    return 0;
}

/* Code points of a str, into `buffer` (of `size`) or a new allocation (*owned). */
static uint32_t *
code_points(PyObject *text, uint32_t *buffer, Py_ssize_t size, uint32_t **owned)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint32_t *out = buffer;
    *owned = NULL;
    if (n > size) {
        out = *owned = PyMem_Malloc((n > 0 ? n : 1) * sizeof(uint32_t));
        if (out == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyUnicode_READ(kind, data, i);
    }
    return out;
}

static PyTypeObject StrTableType;

static PyObject *
strtable_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"absent_limit", NULL};
    Py_ssize_t absent_limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n:StrTable", keywords, &absent_limit)) {
        return NULL;
    }
    StrTable *table = (StrTable *)type->tp_alloc(type, 0);
    if (table == NULL) {
        return NULL;
    }
    table->absent_limit = absent_limit;
    if (table_resize(table, 64) < 0) {
        Py_DECREF(table);
        return NULL;
    }
    return (PyObject *)table;
}

static void
strtable_dealloc(StrTable *table)
{
    PyMem_Free(table->slots);
    PyMem_Free(table->arena);
    Py_TYPE(table)->tp_free((PyObject *)table);
}

static Py_ssize_t
strtable_length(StrTable *table)
{
    return (Py_ssize_t)table->used;
}

/* set(key, value): a number, or None for "a prefix of some key, not a key itself". */
static PyObject *
strtable_set(StrTable *table, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "StrTable.set(key: str, value: float | None)");
        return NULL;
    }
    int tag = PREFIX;
    double value = 0.0;
    if (args[1] != Py_None) {
        value = PyFloat_AsDouble(args[1]);
        if (value == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        tag = VALUE;
    }
    uint32_t buffer[64], *owned;
    uint32_t *key = code_points(args[0], buffer, 64, &owned);
    if (key == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(args[0]);
    int failed = table_put(table, key, n, hash_of(key, n), tag, value);
    PyMem_Free(owned);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* get(key, default=None): the number, None for a prefix, `default` when unknown. */
static PyObject *
strtable_get(StrTable *table, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "StrTable.get(key: str, default=None)");
        return NULL;
    }
    uint32_t buffer[64], *owned;
    uint32_t *key = code_points(args[0], buffer, 64, &owned);
    if (key == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(args[0]);
    const Slot *slot = table_find(table, key, n, hash_of(key, n));
    PyMem_Free(owned);
    if (slot == NULL || slot->tag == ABSENT) {
        return Py_NewRef(nargs == 2 ? args[1] : Py_None);
    }
    if (slot->tag == PREFIX) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(slot->value);
}

static PyObject *
strtable_absent(StrTable *table, void *closure)
{
    return PyLong_FromSsize_t(table->absent);
}

static PyMethodDef strtable_methods[] = {
    {"set", (PyCFunction)(void (*)(void))strtable_set, METH_FASTCALL,
     "set(key, value): value a number, or None for a prefix of longer keys"},
    {"get", (PyCFunction)(void (*)(void))strtable_get, METH_FASTCALL,
     "get(key, default=None): the number, None for a prefix, default if unknown"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef strtable_getset[] = {
    {"absent", (getter)strtable_absent, NULL, "keys remembered as not in the dictionary",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods strtable_sequence = {
    .sq_length = (lenfunc)strtable_length,
};

static PyTypeObject StrTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nlu._speedups.StrTable",
    .tp_basicsize = sizeof(StrTable),
    .tp_dealloc = (destructor)strtable_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "StrTable(absent_limit=0): compact str -> float table for the compiled loops",
    .tp_methods = strtable_methods,
    .tp_getset = strtable_getset,
    .tp_as_sequence = &strtable_sequence,
    .tp_new = strtable_new,
};

/* ---- jieba DAG + best route (nlu.tokenizer._cut_block) ------------------------- */

static int
is_ascii_alnum(Py_UCS4 ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
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
glue(PyObject *text, const uint32_t *chars, const Py_ssize_t *route, Py_ssize_t n)
{
    PyObject *words = PyList_New(0);
    if (words == NULL) {
        return NULL;
    }
    Py_ssize_t buffer_start = -1;  /* start of the pending run of single letters/digits */
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = route[i] + 1;
        if (j - i == 1 && is_ascii_alnum(chars[i])) {
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

/* The tag and value of a fragment, asking `lookup` (and remembering) on a miss. The
 * callback may let other threads run; nothing here keeps a slot pointer across it. */
static int
fragment_value(StrTable *table, PyObject *text, const uint32_t *chars, Py_ssize_t start,
               Py_ssize_t end, uint64_t hash, PyObject *lookup, PyObject *absent,
               double *value)
{
    const Slot *slot = table_find(table, chars + start, end - start, hash);
    if (slot != NULL) {
        *value = slot->value;
        return slot->tag;
    }
    PyObject *fragment = PyUnicode_Substring(text, start, end);
    if (fragment == NULL) {
        return -1;
    }
    PyObject *found = PyObject_CallOneArg(lookup, fragment);
    Py_DECREF(fragment);
    if (found == NULL) {
        return -1;
    }
    int tag = found == absent ? ABSENT : found == Py_None ? PREFIX : VALUE;
    *value = tag == VALUE ? PyFloat_AsDouble(found) : 0.0;
    Py_DECREF(found);
    if ((tag == VALUE && *value == -1.0 && PyErr_Occurred())
        || table_put(table, chars + start, end - start, hash, tag, *value) < 0) {
        return -1;
    }
    return tag;
}

static PyObject *
cut_block(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "cut_block(text, table, lookup, absent, unknown)");
        return NULL;
    }
    PyObject *text = args[0], *lookup = args[2], *absent = args[3];
    if (!PyUnicode_Check(text) || !PyObject_TypeCheck(args[1], &StrTableType)) {
        PyErr_SetString(PyExc_TypeError, "cut_block: text must be str, table a StrTable");
        return NULL;
    }
    StrTable *table = (StrTable *)args[1];
    double unknown = PyFloat_AsDouble(args[4]);
    if (unknown == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint32_t buffer[256], *owned = NULL;
    uint32_t *chars = code_points(text, buffer, 256, &owned);
    double *best = PyMem_Malloc((n + 1) * sizeof(double));
    Py_ssize_t *route = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    PyObject *result = NULL;
    if (chars == NULL || best == NULL || route == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    best[n] = 0.0;
    route[n] = 0;
    for (Py_ssize_t start = n - 1; start >= 0; start--) {
        int found = 0;
        double top_value = 0.0;
        Py_ssize_t top_end = start;
        uint64_t hash = FNV_OFFSET;
        for (Py_ssize_t end = start; end < n; end++) {
            double logp;
            hash = hash_step(hash, chars[end]);
            int tag = fragment_value(table, text, chars, start, end + 1, hash, lookup, absent,
                                     &logp);
            if (tag < 0) {
                goto done;
            }
            if (tag == ABSENT) {
                break;
            }
            if (tag == VALUE) {
                double value = logp + best[end + 1];
                /* Ends rise, so >= keeps the longest of equal routes, as jieba's max does. */
                if (!found || value >= top_value) {
                    found = 1;
                    top_value = value;
                    top_end = end;
                }
            }
        }
        if (!found) {
            top_value = unknown + best[start + 1];
        }
        best[start] = top_value;
        route[start] = top_end;
    }
    result = glue(text, chars, route, n);
done:
    PyMem_Free(owned);
    PyMem_Free(best);
    PyMem_Free(route);
    return result;
}

/* ---- features (nlu.features.Vectorizer.transform_text) -------------------------- */

/* Columns in first-seen order with their counts; an open-addressing index finds a
 * column's position. Sized for the most keys a message can have, so it never fills. */
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

/* Count a key's column if the table knows it. */
static int
count_key(const StrTable *table, const uint32_t *key, Py_ssize_t length, Counter *counter,
          Py_ssize_t n_columns)
{
    const Slot *slot = table_find(table, key, length, hash_of(key, length));
    if (slot == NULL || slot->tag != VALUE) {
        return 0;
    }
    Py_ssize_t column = (Py_ssize_t)slot->value;
    if (column < 0 || column >= n_columns) {
        PyErr_SetString(PyExc_IndexError, "transform: column out of range");
        return -1;
    }
    counter_add(counter, column);
    return 0;
}

/* Words, "a|b" word pairs, then the padded text's character 1- and 2-grams. */
static int
count_all(PyObject *words, PyObject *padded, StrTable *const *tables, Counter *counter,
          Py_ssize_t n_columns)
{
    Py_ssize_t n = PyList_GET_SIZE(words);
    uint32_t buffer[512], *owned = NULL;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "transform: words must be str");
            return -1;
        }
        total += PyUnicode_GET_LENGTH(word);
    }
    /* All words' code points one after another, then a '|' scratch area for pairs. */
    uint32_t *chars = total * 2 + 1 <= 512 ? buffer
                      : (owned = PyMem_Malloc((total * 2 + 1) * sizeof(uint32_t)));
    Py_ssize_t *starts = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    int failed = -1;
    if (chars == NULL || starts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(words, i);
        int kind = PyUnicode_KIND(word);
        const void *data = PyUnicode_DATA(word);
        starts[i] = at;
        for (Py_ssize_t k = 0; k < PyUnicode_GET_LENGTH(word); k++) {
            chars[at++] = PyUnicode_READ(kind, data, k);
        }
    }
    starts[n] = at;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (count_key(tables[0], chars + starts[i], starts[i + 1] - starts[i], counter,
                      n_columns) < 0) {
            goto done;
        }
    }
    uint32_t *pair = chars + total;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        Py_ssize_t first = starts[i + 1] - starts[i], second = starts[i + 2] - starts[i + 1];
        memcpy(pair, chars + starts[i], first * sizeof(uint32_t));
        pair[first] = '|';
        memcpy(pair + first + 1, chars + starts[i + 1], second * sizeof(uint32_t));
        if (count_key(tables[1], pair, first + 1 + second, counter, n_columns) < 0) {
            goto done;
        }
    }
    PyMem_Free(owned);
    owned = NULL;
    Py_ssize_t m = PyUnicode_GET_LENGTH(padded);
    uint32_t *grams = code_points(padded, buffer, 512, &owned);
    if (grams == NULL) {
        goto done;
    }
    for (Py_ssize_t width = 1; width <= 2; width++) {
        for (Py_ssize_t i = 0; i + width <= m; i++) {
            if (count_key(tables[2], grams + i, width, counter, n_columns) < 0) {
                goto done;
            }
        }
    }
    failed = 0;
done:
    PyMem_Free(owned);
    PyMem_Free(starts);
    return failed;
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
    if (!PyList_Check(words) || !PyUnicode_Check(padded) || !PyList_Check(idf)
        || !PyObject_TypeCheck(args[2], &StrTableType)
        || !PyObject_TypeCheck(args[3], &StrTableType)
        || !PyObject_TypeCheck(args[4], &StrTableType)) {
        PyErr_SetString(PyExc_TypeError,
                        "transform: a list, a str, three StrTables and a list");
        return NULL;
    }
    StrTable *tables[3] = {(StrTable *)args[2], (StrTable *)args[3], (StrTable *)args[4]};
    Py_ssize_t n_columns = PyList_GET_SIZE(idf);
    Py_ssize_t most = 2 * PyList_GET_SIZE(words) + 2 * PyUnicode_GET_LENGTH(padded);
    Counter counter;
    PyObject *result = NULL, *columns = NULL, *values = NULL;
    if (counter_init(&counter, most) < 0
        || count_all(words, padded, tables, &counter, n_columns) < 0) {
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

/* Weighted sum of sparse term rows per document, then the best document per entry.
 *
 * rows/weights: the query's terms (rows of the term x document matrix) and weights,
 * lists of one length; csr: the index's indptr, indices, data (that matrix as CSR:
 * int64, int32, float64), starts (the first document of every entry, int64;
 * documents are grouped by entry) and n_docs.
 */
static PyObject *
sparse_best(PyObject *rows, PyObject *weights, PyObject *const *csr)
{
    Py_ssize_t n_docs = PyLong_AsSsize_t(csr[4]);
    if (n_docs < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "sparse_best: n_docs < 0");
        }
        return NULL;
    }
    Py_buffer indptr = {0}, indices = {0}, data = {0}, starts = {0};
    PyObject *result = NULL;
    double *docs = NULL;
    if (get_buffer(csr[0], &indptr, 8, "indptr") < 0
        || get_buffer(csr[1], &indices, 4, "indices") < 0
        || get_buffer(csr[2], &data, 8, "data") < 0
        || get_buffer(csr[3], &starts, 8, "starts") < 0) {
        goto done;
    }
    if (indices.len / 4 != data.len / 8 || indptr.len < 8) {
        PyErr_SetString(PyExc_ValueError, "sparse_best: indices and data differ in length");
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
    release(&indptr);
    release(&indices);
    release(&data);
    release(&starts);
    return result;
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
    result = sparse_best(rows, weights, &((PyTupleObject *)index)->ob_item[6]);
done:
    PyMem_Free(idf);
    Py_XDECREF(rows);
    Py_XDECREF(weights);
    return result;
}

static PyMethodDef methods[] = {
    {"cut_block", (PyCFunction)(void (*)(void))cut_block, METH_FASTCALL,
     "jieba's DAG + best route for one block: (text, table, lookup, absent, unknown) -> words"},
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
    if (PyType_Ready(&StrTableType) < 0) {
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(created, "StrTable", (PyObject *)&StrTableType) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
