// SPDX-License-Identifier: MIT
/*
 * test_html: the self-contained HTML page of --format html. The JSON is
 * embedded so that nothing in it can end its <script> element ("</script>",
 * "<!--" in the data) and reads back unchanged; the title is HTML-escaped;
 * the page is one file that references nothing on the network (every
 * "http://" in it is the SVG namespace name or data); unknown kinds and
 * write errors are refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "html.h"
#include "log.h"

#define DATA_OPEN "<script type=\"application/json\" id=\"cpprof-data\">"

static char *page(const char *kind, const char *title, const char *json, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*err = html__write(f, kind, title, json, strlen(json));
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	for (const char *p = hay; (p = strcasestr(p, needle)); p += nl)
		n++;
	return n;
}

/* The text of the data element, with the three \u escapes undone. */
static char *data_of(const char *html)
{
	const char *s = strstr(html, DATA_OPEN), *e;
	char *out, *o;

	if (!s)
		return NULL;
	s += strlen(DATA_OPEN);
	e = strstr(s, "</script>");
	if (!e)
		return NULL;
	out = o = calloc(1, e - s + 1);
	while (s < e) {
		if (!strncmp(s, "\\u003c", 6) || !strncmp(s, "\\u003e", 6) || !strncmp(s, "\\u0026", 6)) {
			*o++ = s[5] == 'c' ? '<' : s[5] == 'e' ? '>' : '&';
			s += 6;
		} else {
			*o++ = *s++;
		}
	}
	return out;
}

static void test_embedding(void)
{
	const char *json = "{\"runs\":[{\"label\":\"</script><script>alert(1)</script>\","
			   "\"host\":\"<!-- a & b > c\",\"command\":\"</SCRIPT >x\",\"n\":1}]}";
	int err;
	char *html = page("report", "cpprof report", json, &err), *data;

	CHECK_INT(err, 0);
	CHECK(html && !strncmp(html, "<!DOCTYPE html>", 15), "page starts with the doctype");
	/* two ends of script elements: the data's and the page script's */
	CHECK_INT(count(html, "</script"), 2);
	CHECK(!strstr(html, "alert(1)</"), "data cannot close an element");
	data = data_of(html);
	CHECK(data && !strcmp(data, json), "embedded JSON reads back unchanged: '%s'", data ? data : "(none)");
	{
		const char *s = strstr(html, DATA_OPEN) + strlen(DATA_OPEN);
		const char *e = strstr(s, "</script>");
		const char *lt = memchr(s, '<', e - s);

		CHECK(lt == NULL, "no raw '<' inside the data element");
		CHECK(memchr(s, '>', e - s) == NULL && memchr(s, '&', e - s) == NULL,
		      "no raw '>' or '&' inside the data element");
	}
	CHECK(strstr(html, "data-kind=\"report\""), "kind is on the body");
	CHECK(strstr(html, "data-rendered=\"no\""), "the script marks the page rendered itself");
	CHECK(!strstr(html, "{{"), "every template slot is filled");
	free(data);
	free(html);

	/* an empty document and one with only escapable bytes */
	html = page("diff", NULL, "<>&", &err);
	CHECK_INT(err, 0);
	CHECK(html && strstr(html, "\\u003c\\u003e\\u0026</script>"), "escapes of <, > and &");
	CHECK(html && strstr(html, "<title>cpprof</title>"), "NULL title: 'cpprof'");
	free(html);
}

static void test_title(void)
{
	int err;
	char *html = page("trend", "a <b>&\"'</title><script>x()</script>", "{}", &err);

	CHECK_INT(err, 0);
	CHECK(html && strstr(html, "<title>a &lt;b&gt;&amp;&quot;&#39;&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;</title>"),
	      "title is HTML-escaped");
	CHECK(html && !strstr(html, "<b>"), "no raw markup from the title");
	CHECK_INT(count(html, "</script"), 2);
	CHECK(html && strstr(html, "data-kind=\"trend\""), "trend kind");
	free(html);
}

/* Every http(s):// in the page outside the data is the SVG namespace
 * name, and nothing loads anything: no src=, href=, url(, @import, <link. */
static void test_self_contained(void)
{
	int err;
	char *html = page("report", "t", "{\"runs\":[],\"command\":\"--metrics https://x:1/metrics\"}", &err);
	const char *data, *data_end, *p;
	size_t bad = 0;

	CHECK_INT(err, 0);
	if (!html)
		return;
	data = strstr(html, DATA_OPEN);
	data_end = data ? strstr(data + strlen(DATA_OPEN), "</script>") : NULL;
	CHECK(data && data_end, "data element present");
	if (!data || !data_end)
		return;
	for (p = html; (p = strcasestr(p, "http")); p += 4) {
		if (strncasecmp(p, "http://", 7) && strncasecmp(p, "https://", 8))
			continue;
		if (p > data && p < data_end)
			continue;	/* data, shown as text */
		if (!strncmp(p, "http://www.w3.org/2000/svg\"", 27))
			continue;	/* a namespace name, never fetched */
		bad++;
		fprintf(stderr, "network reference: %.60s\n", p);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(count(html, "src="), 0);
	CHECK_INT(count(html, "href="), 0);
	CHECK_INT(count(html, "url("), 0);
	CHECK_INT(count(html, "@import"), 0);
	CHECK_INT(count(html, "<link"), 0);
	CHECK_INT(count(html, "<iframe"), 0);
	CHECK_INT(count(html, "fetch("), 0);
	CHECK_INT(count(html, "XMLHttpRequest"), 0);
	CHECK(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"),
	      "the page forbids itself any network access");
	/* one file: the style and the script are inline */
	CHECK_INT(count(html, "<style>"), 1);
	CHECK(strstr(html, "window.onerror"), "the script is inline");
	free(html);
}

static void test_errors(void)
{
	FILE *f = fopen("/dev/null", "w");
	int err;

	err = html__write(f, "flamegraph", "t", "{}", 2);
	CHECK_INT(err, -EINVAL);
	CHECK(strstr(cp_lasterr(), "flamegraph"), "error names the kind: %s", cp_lasterr());
	err = html__write(f, NULL, "t", "{}", 2);
	CHECK_INT(err, -EINVAL);
	err = html__write(f, "report", "t", NULL, 0);
	CHECK_INT(err, -EINVAL);
	fclose(f);

	f = fopen("/dev/full", "w");
	if (f) {
		err = html__write(f, "report", "t", "{}", 2);
		CHECK_INT(err, -EIO);
		fclose(f);
	}
}

int main(void)
{
	test_embedding();
	test_title();
	test_self_contained();
	test_errors();
	return check_summary("test_html");
}
