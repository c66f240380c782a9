// SPDX-License-Identifier: MIT
/*
 * html: fill the page template of tools/html/report.html. The template
 * names its slots {{TITLE}}, {{KIND}}, {{STYLE}}, {{SCRIPT}} and {{DATA}};
 * style.css and app.js go in as they are (gen_assets.sh refuses a script
 * or style sheet that could end its own element), the title is
 * HTML-escaped, and the JSON is escaped for a script data block: inside
 * <script> the HTML parser ends the element at the first "</script" and
 * treats "<!--" specially, whatever JSON thinks of it, so every '<' (and
 * '>' and '&', for good measure) becomes its \u escape, which JSON.parse
 * reads back as the same character. Outside strings JSON has no '<' at
 * all, so the escape never changes the document's meaning.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "log.h"

#include "html_assets.h"

static int put(FILE *out, const void *p, size_t n)
{
	return n && fwrite(p, 1, n, out) != n ? -EIO : 0;
}

static int put_escaped_text(FILE *out, const char *s)
{
	int err = 0;

	for (; s && *s && !err; s++) {
		switch (*s) {
		case '&':  err = put(out, "&amp;", 5); break;
		case '<':  err = put(out, "&lt;", 4); break;
		case '>':  err = put(out, "&gt;", 4); break;
		case '"':  err = put(out, "&quot;", 6); break;
		case '\'': err = put(out, "&#39;", 5); break;
		default:   err = fputc(*s, out) == EOF ? -EIO : 0; break;
		}
	}
	return err;
}

static int put_json(FILE *out, const char *json, size_t len)
{
	size_t i, run = 0;
	int err = 0;

	for (i = 0; i < len && !err; i++) {
		const char *esc = NULL;

		switch (json[i]) {
		case '<': esc = "\\u003c"; break;
		case '>': esc = "\\u003e"; break;
		case '&': esc = "\\u0026"; break;
		default: continue;
		}
		err = put(out, json + run, i - run);
		if (!err)
			err = put(out, esc, 6);
		run = i + 1;
	}
	if (!err)
		err = put(out, json + run, len - run);
	return err;
}

int html__write(FILE *out, const char *kind, const char *title, const char *json,
		size_t json_len)
{
	const char *t = (const char *)html_asset_report_html;
	const char *end = t + html_asset_report_html_len;
	int err = 0;

	if (!kind || (strcmp(kind, "report") && strcmp(kind, "diff") && strcmp(kind, "trend"))) {
		cp_seterr("unknown page kind '%s'", kind ? kind : "(null)");
		return -EINVAL;
	}
	if (!json) {
		cp_seterr("no JSON document to embed");
		return -EINVAL;
	}
	while (t < end && !err) {
		const char *open = memmem(t, end - t, "{{", 2), *close;
		size_t name_len;

		if (!open) {
			err = put(out, t, end - t);
			break;
		}
		close = memmem(open + 2, end - open - 2, "}}", 2);
		if (!close) {
			err = put(out, t, end - t);
			break;
		}
		err = put(out, t, open - t);
		if (err)
			break;
		name_len = close - open - 2;
#define SLOT(s) (name_len == sizeof(s) - 1 && !memcmp(open + 2, s, name_len))
		if (SLOT("TITLE"))
			err = put_escaped_text(out, title ? title : "cpprof");
		else if (SLOT("KIND"))
			err = put(out, kind, strlen(kind));
		else if (SLOT("STYLE"))
			err = put(out, (const char *)html_asset_style_css, html_asset_style_css_len);
		else if (SLOT("SCRIPT"))
			err = put(out, (const char *)html_asset_app_js, html_asset_app_js_len);
		else if (SLOT("DATA"))
			err = put_json(out, json, json_len);
		else	/* not a slot: keep the text as it is */
			err = put(out, open, close + 2 - open);
#undef SLOT
		t = close + 2;
	}
	if (!err && ferror(out))
		err = -EIO;
	if (err)
		cp_seterr("cannot write the HTML page: %s", strerror(errno ? errno : EIO));
	return err;
}
