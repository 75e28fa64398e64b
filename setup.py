"""What pyproject.toml cannot say: the wheel carries two things the repository keeps at its top
level inside the packages that read them, ``asterisk-config/`` (the Asterisk templates) in
``dialplan/`` and ``hotline-ivr.yaml`` (the seed IVR) in ``ivr/``. ``core.shipped`` finds them
there on an installed system, and at the top of a source checkout (an editable install too)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# Where the repository keeps it -> where the built packages carry it.
SHIPPED = {
    "asterisk-config": "dialplan/asterisk-config",
    "hotline-ivr.yaml": "ivr/hotline-ivr.yaml",
}


class BuildPyWithShippedData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # read in place from the checkout
            return
        for source, target in SHIPPED.items():
            out = Path(self.build_lib, target)
            if Path(source).is_dir():
                shutil.copytree(source, out, dirs_exist_ok=True)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, out)


setup(cmdclass={"build_py": BuildPyWithShippedData})
