# SPDX-License-Identifier: MIT
# The HTML page of `cpprof report|diff --format html` (user/report/html.c): its
# template, style sheet and script, compiled into cpprof as byte arrays.
HTML_ASSETS := tools/html/report.html tools/html/style.css tools/html/app.js

$(OUTPUT)/html_assets.h: $(HTML_ASSETS) tools/html/gen_assets.sh | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)tools/html/gen_assets.sh $@ $(HTML_ASSETS)

$(OUTPUT)/user/report/html.o $(OUTPUT)/fuzz/user/report/html.o: $(OUTPUT)/html_assets.h
