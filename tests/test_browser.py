"""A real browser: JupyterLab serves notebook 05 with the project's kernel, and a mouse stroke on the pad reads 1.

Headless Chromium (Debian's chromium and chromedriver) driven by Selenium. The server runs on 127.0.0.1 with a
random token, on a temporary copy of the notebook and of the two model files it reads.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
KERNEL = "lenet-keras"
NOTEBOOK = "05_inside_lenet5.ipynb"
MODELS = ("lenet5.keras", "lenet5_int8.tflite")
BUILD = ROOT / "build" / "browser"  # the failure screenshot, the pad's screenshot and the server log
# Without the networking flags Chromium keeps trying to reach Google, and on a closed network its page loads stall.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
# JupyterLab's news announcements would ask for network access in a pop-up.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"):
    pytest.skip("no Chromium: apt-get install chromium chromium-driver (CI installs them)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def lab(tmp_path, mnist_dir):
    """A JupyterLab server on a copy of notebook 05; yields (base URL, token); stopped in every case."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "notebooks")
    (tmp_path / "saved_models").mkdir()
    for name in MODELS:
        shutil.copy(ROOT / "saved_models" / name, tmp_path / "saved_models")
    (tmp_path / "config" / "labconfig").mkdir(parents=True)
    (tmp_path / "config" / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("LENET_OUT", "LENET_SMOKE", "LENET_PROGRESS")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),  # this checkout's code
        LENET_MNIST_DIR=mnist_dir,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),  # none of the user's settings or extensions' configs
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={tmp_path / 'notebooks'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run all cells as the Run menu does
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
        *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),  # CI runs as root
    ]  # fmt: skip
    BUILD.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with open(BUILD / "jupyterlab.log", "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _get(f"{base}/api/status", token)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"JupyterLab did not start; see {BUILD / 'jupyterlab.log'}")
                    time.sleep(0.5)
            yield base, token
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile; quits in every case."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(180)
    try:
        yield driver
    finally:
        driver.quit()


def _prediction(driver):
    """The pad's answer as its page shows it: a digit, 'none', or '' while nothing is drawn."""
    shown = driver.find_elements(By.CSS_SELECTOR, ".lenet-draw-prediction")
    return shown[0].text if shown else ""


CELL_OF_PAD = (
    "//canvas[contains(@class, 'lenet-draw-pad')]/ancestor::div[contains(concat(' ', @class, ' '), ' jp-Cell ')]"
)
# Headless, the window never has focus, so shell.currentWidget stays null: find the notebook's panel instead.
FIND_PANEL = "return Array.from(jupyterapp.shell.widgets('main')).some(w => w.sessionContext);"
RUN_ALL = """
const done = arguments[arguments.length - 1];
const app = window.jupyterapp;
const panel = Array.from(app.shell.widgets("main")).find((w) => w.sessionContext);
app.shell.activateById(panel.id);  // run-all-cells acts on the active notebook
panel.sessionContext.ready
  .then(() => app.commands.execute("notebook:run-all-cells"))
  .then(() => done(panel.sessionContext.session.kernel.name), (e) => done("error: " + e));
"""


def test_drawing_a_one_in_jupyterlab_reads_as_one(lab, browser):
    base, token = lab
    wait = WebDriverWait(browser, 120)
    try:
        browser.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        wait.until(lambda d: d.execute_script("return !!window.jupyterapp") and d.execute_script(FIND_PANEL))
        kernel = browser.execute_async_script(RUN_ALL)
        spec = _get(f"{base}/api/kernelspecs", token)["kernelspecs"].get(KERNEL)
        assert spec, f"no {KERNEL} kernel: `make install` registers it"
        assert Path(spec["spec"]["argv"][0]).parent == Path(sys.executable).parent, "the kernel is not this venv's"
        assert kernel == KERNEL, f"notebook 05 ran on kernel {kernel!r}"
        assert [s["kernel"]["name"] for s in _get(f"{base}/api/sessions", token)] == [KERNEL]

        pad = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "canvas.lenet-draw-pad"))
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
        wait.until(lambda d: _prediction(d) == "1")  # the notebook's own scripted stroke
        browser.find_element(By.CSS_SELECTOR, "button.lenet-draw-clear").click()
        wait.until(lambda d: _prediction(d) == "")

        stroke = ActionChains(browser).move_to_element_with_offset(pad, 0, -90).click_and_hold()
        for _ in range(9):
            stroke = stroke.move_by_offset(0, 20)
        stroke.release().perform()
        wait.until(lambda d: _prediction(d) != "")
        assert _prediction(browser) == "1"
        cell = browser.find_element(By.XPATH, CELL_OF_PAD)
        cell.screenshot(str(BUILD / "drawing-pad.png"))  # the README's docs/drawing_pad.png
    except BaseException:
        browser.save_screenshot(str(BUILD / "failure.png"))
        raise
