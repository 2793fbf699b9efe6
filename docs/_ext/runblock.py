"""``.. runblock::`` — show Python code and the output it prints, both produced when the site is built.

The blocks of one page share a namespace (like cells of a notebook), so a page can build a model in
one block and train it in the next. An exception in a block fails the build with the block's source
location: the guide's code cannot go stale.
"""

from __future__ import annotations

import contextlib
import io
import traceback

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)

PRELUDE = "import numpy as np\nimport shenjing as sj\nimport shenjing.nn as nn\nimport shenjing.nn.functional as F\n"


class RunBlock(Directive):
    has_content = True

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        namespace = env.temp_data.get("runblock_namespace")
        if namespace is None:      # the first block of this page (temp_data is cleared between pages)
            namespace = env.temp_data["runblock_namespace"] = {"__name__": "__runblock__"}
            exec(PRELUDE, namespace)
        code = "\n".join(self.content)
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"<{env.docname} runblock>", "exec"), namespace)
        except Exception:
            logger.warning("runblock raised:\n%s", traceback.format_exc(limit=-1), location=(env.docname, self.lineno))
        result = [nodes.literal_block(code, code, language="python")]
        if printed.getvalue():
            output = printed.getvalue().rstrip("\n")
            result.append(nodes.literal_block(output, output, language="text", classes=["runblock-output"]))
        return result


def setup(app) -> dict:
    app.add_directive("runblock", RunBlock)
    return {"version": "1.0", "parallel_read_safe": True}
