/* db_sql.c - reads just enough SQL to name a statement's operation and main table. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "woodctl/db.h"

enum tok_kind { T_END, T_WORD, T_QUOTED, T_PUNCT, T_OTHER };

struct tok {
	enum tok_kind kind;
	const char *s; /* T_WORD: the word; T_QUOTED: inside the quotes; T_PUNCT: the char */
	size_t n;
};

static bool word_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static bool word_char(char c)
{
	return word_start(c) || isdigit((unsigned char)c) || c == '$';
}

/* Skips blanks and comments (nested block comments, as PostgreSQL allows). */
static const char *skip_space(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			int depth = 1;
			p += 2;
			while (*p && depth) {
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
		} else {
			return p;
		}
	}
}

/* Skips a literal that starts at p with quote q; backslashes escape in E'' strings. */
static const char *skip_quoted(const char *p, char q, bool backslash)
{
	for (p++; *p; p++) {
		if (backslash && *p == '\\' && p[1]) {
			p++;
		} else if (*p == q) {
			if (p[1] != q)
				return p + 1;
			p++;
		}
	}
	return p;
}

/* Reads the next token; literals and numbers come back as T_OTHER. */
static const char *next(const char *p, struct tok *t)
{
	p = skip_space(p);
	t->s = p;
	t->n = 0;
	if (!*p) {
		t->kind = T_END;
		return p;
	}
	if ((p[0] == 'E' || p[0] == 'e') && p[1] == '\'') {
		t->kind = T_OTHER;
		return skip_quoted(p + 1, '\'', true);
	}
	if (word_start(*p)) {
		const char *s = p;
		while (word_char(*p))
			p++;
		t->kind = T_WORD;
		t->n = (size_t)(p - s);
		return p;
	}
	if (*p == '"') {
		const char *e = skip_quoted(p, '"', false);
		t->kind = T_QUOTED;
		t->s = p + 1;
		t->n = (size_t)(e - p) >= 2 ? (size_t)(e - p) - 2 : 0;
		return e;
	}
	if (*p == '\'') {
		t->kind = T_OTHER;
		return skip_quoted(p, '\'', false);
	}
	if (*p == '$') {
		/* $tag$ ... $tag$ or a parameter $1. */
		const char *e = p + 1;
		while (word_char(*e) && *e != '$')
			e++;
		if (*e == '$' && !isdigit((unsigned char)p[1])) {
			size_t taglen = (size_t)(e - p) + 1;
			const char *end = e + 1;
			while (*end && strncmp(end, p, taglen))
				end++;
			t->kind = T_OTHER;
			return *end ? end + taglen : end;
		}
		t->kind = T_OTHER;
		return e;
	}
	t->kind = T_PUNCT;
	t->n = 1;
	return p + 1;
}

static bool is_word(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && t->n == strlen(w) && !strncasecmp(t->s, w, t->n);
}

static bool is_punct(const struct tok *t, char c)
{
	return t->kind == T_PUNCT && *t->s == c;
}

/* Appends a name part: a word as written, a quoted identifier without its quotes. */
static void add_part(char *out, size_t outsz, const struct tok *t)
{
	size_t len = strlen(out);
	for (size_t i = 0; i < t->n && len + 1 < outsz; i++) {
		out[len++] = t->s[i];
		if (t->kind == T_QUOTED && t->s[i] == '"' && i + 1 < t->n && t->s[i + 1] == '"')
			i++; /* "" inside quotes is one quote */
	}
	out[len] = '\0';
}

/* Reads [ONLY] name[.name[.name]] at p into table. */
static void read_name(const char *p, char *table, size_t tablesz)
{
	struct tok t;
	p = next(p, &t);
	if (is_word(&t, "ONLY"))
		p = next(p, &t);
	for (int parts = 0; parts < 3; parts++) {
		if (t.kind != T_WORD && t.kind != T_QUOTED)
			return;
		add_part(table, tablesz, &t);
		p = next(p, &t);
		if (!is_punct(&t, '.'))
			return;
		size_t len = strlen(table);
		if (len + 1 < tablesz) {
			table[len] = '.';
			table[len + 1] = '\0';
		}
		p = next(p, &t);
	}
}

static void copy_upper(char *out, size_t outsz, const struct tok *t)
{
	size_t n = t->n < outsz - 1 ? t->n : outsz - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)t->s[i]);
	out[n] = '\0';
}

void wd_db_describe(const char *sql, char *op, size_t opsz, char *table, size_t tablesz)
{
	struct tok t;
	const char *p = next(sql ? sql : "", &t);
	op[0] = '\0';
	table[0] = '\0';
	if (t.kind != T_WORD)
		return;
	if (is_word(&t, "WITH")) {
		/* The statement proper follows the common table expressions, at depth 0. */
		int depth = 0;
		for (p = next(p, &t); t.kind != T_END; p = next(p, &t)) {
			if (is_punct(&t, '('))
				depth++;
			else if (is_punct(&t, ')'))
				depth--;
			else if (!depth && (is_word(&t, "SELECT") || is_word(&t, "INSERT") ||
			                    is_word(&t, "UPDATE") || is_word(&t, "DELETE") ||
			                    is_word(&t, "MERGE")))
				break;
		}
		if (t.kind == T_END) {
			copy_upper(op, opsz, &(struct tok){T_WORD, "WITH", 4});
			return;
		}
	}
	copy_upper(op, opsz, &t);
	if (is_word(&t, "INSERT") || is_word(&t, "MERGE")) {
		p = next(p, &t);
		if (is_word(&t, "INTO"))
			read_name(p, table, tablesz);
	} else if (is_word(&t, "UPDATE")) {
		read_name(p, table, tablesz);
	} else if (is_word(&t, "DELETE")) {
		p = next(p, &t);
		if (is_word(&t, "FROM"))
			read_name(p, table, tablesz);
	} else if (is_word(&t, "SELECT")) {
		int depth = 0;
		for (p = next(p, &t); t.kind != T_END; p = next(p, &t)) {
			if (is_punct(&t, '('))
				depth++;
			else if (is_punct(&t, ')'))
				depth--;
			else if (!depth && is_word(&t, "FROM"))
				break;
			else if (!depth && (is_word(&t, "UNION") || is_punct(&t, ';')))
				return;
		}
		if (t.kind != T_END)
			read_name(p, table, tablesz);
	}
}

/* Opens the array before the first element, separates the others. */
static int array_next(struct wd_buf *arr)
{
	return wd_buf_putc(arr, arr->len ? ',' : '{');
}

int wd_db_array_add(struct wd_buf *arr, const char *elem)
{
	int rc = array_next(arr);
	if (rc || !elem)
		return rc ? rc : wd_buf_puts(arr, "NULL");
	rc = wd_buf_putc(arr, '"');
	for (const char *p = elem; !rc && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = wd_buf_putc(arr, '\\');
		if (!rc)
			rc = wd_buf_putc(arr, *p);
	}
	return rc ? rc : wd_buf_putc(arr, '"');
}

int wd_db_array_add_int(struct wd_buf *arr, int64_t v)
{
	int rc = array_next(arr);
	return rc ? rc : wd_buf_printf(arr, "%lld", (long long)v);
}

int wd_db_array_end(struct wd_buf *arr)
{
	return arr->len ? wd_buf_putc(arr, '}') : wd_buf_puts(arr, "{}");
}
