#!/usr/bin/env python3
"""Loads every web UI page in headless Chromium at phone (390x844) and desktop (1280x800) size.

Starts `guesthouse serve` on its embedded demo at a free loopback port, logs in with the password
it prints, visits every page, checks that no page scrolls sideways at phone size
(document.documentElement.scrollWidth <= window.innerWidth), that the page has no CSP violations,
and saves a screenshot of every page at both sizes.

usage: web_ui_pages.py GUESTHOUSE_BINARY [SCREENSHOT_DIR]
   or: web_ui_pages.py --server URL PASSWORD SCREENSHOT_DIR NAME=PATH...
       (a running server: log in and check only the named pages, at both sizes)
Prints "screenshots: DIR" and one line per check; exits non-zero when a check fails.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# Every visible text's contrast against its effective background (WCAG 2: 4.5:1, 3:1 for large text).
CONTRAST = """
function channel(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
function parts(c) { return c.match(/[\\d.]+/g).map(Number); }
function luminance(c) { const [r, g, b] = parts(c); return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b); }
function opaque(c) { const p = parts(c); return p.length < 4 || p[3] > 0; }
function background(el) {
  for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; if (opaque(c)) return c; }
  return 'rgb(255, 255, 255)';
}
const low = [];
let checked = 0;
for (const el of document.querySelectorAll('body *')) {
  if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || box.right < 0) continue;
  const style = getComputedStyle(el);
  checked++;
  const a = luminance(style.color), b = luminance(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < needed) low.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
}
return [low, checked];
"""

PHONE = (390, 844)
DESKTOP = (1280, 800)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, port, workdir):
    log = open(os.path.join(workdir, "serve.log"), "w+")
    process = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}"], stdout=log,
                               stderr=subprocess.STDOUT, cwd=workdir)
    deadline = time.time() + 60
    password = None
    while time.time() < deadline:
        log.seek(0)
        text = log.read()
        match = re.search(r"Log in as:\s+admin / (\S+)", text)
        if match:
            password = match.group(1)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return process, password
            except OSError:
                pass
        if process.poll() is not None:
            raise SystemExit(f"guesthouse serve exited early:\n{text}")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("guesthouse serve did not start within 60 s")


def browser(size):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--hide-scrollbars", f"--window-size={size[0]},{size[1]}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(*size)
    # The window includes browser chrome in headful mode; make the viewport itself the size.
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if inner != list(size):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size == PHONE})
    return driver


def settled(driver, timeout):
    """A wait that retries through the errors a page in mid-navigation gives (stale or detached nodes)."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,))


def click_to_next_page(driver, button, timeout=600):
    """Clicks a submit button and waits for the answer's page: the window marked before the click is
    gone. (Waiting for the old <html> to go stale raced with the navigation in chromedriver 156:
    "Node with given id does not belong to the document".)"""
    driver.execute_script("window.__ghPreviousPage = true")
    button.click()
    settled(driver, timeout).until(
        lambda d: d.execute_script("return window.__ghPreviousPage !== true && document.readyState === 'complete'"))


def log_in(driver, base, password):
    """Logs in as admin through the form; exits when the login page stays."""
    driver.get(base + "/login/")
    driver.find_element(By.ID, "u").send_keys("admin")
    driver.find_element(By.ID, "p").send_keys(password)
    try:
        click_to_next_page(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"), timeout=20)
    except TimeoutException:
        pass
    if "/login/" in driver.current_url:
        raise SystemExit("login failed")


def check_pages(base, password, out, pages):
    """Logs in to a running server and checks the given pages at both sizes."""
    failures = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        driver = browser(size)
        try:
            log_in(driver, base, password)
            for name, path in pages:
                driver.get(base + path)
                shoot(driver, out, label, name, failures, size)
        finally:
            driver.quit()
    return failures


def main():
    if sys.argv[1] == "--server":
        base, password, out = sys.argv[2], sys.argv[3], sys.argv[4]
        os.makedirs(out, exist_ok=True)
        print(f"screenshots: {out}", flush=True)
        failures = check_pages(base, password, out, [tuple(a.split("=", 1)) for a in sys.argv[5:]])
        for failure in failures:
            print("FAIL " + failure)
        print("ok" if not failures else f"{len(failures)} failure(s)", flush=True)
        sys.exit(1 if failures else 0)
    binary = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp/guesthouse-screenshots"
    os.makedirs(out, exist_ok=True)
    print(f"screenshots: {out}", flush=True)
    workdir = tempfile.mkdtemp(prefix="gh-browser-")
    port = free_port()
    server, password = start_server(binary, port, workdir)
    base = f"http://127.0.0.1:{port}"
    failures = []
    try:
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            driver = browser(size)
            try:
                driver.get(base + "/login/")
                pages = [("login", "/login/")]
                shoot(driver, out, label, "login", failures, size)
                log_in(driver, base, password)
                driver.get(base + "/machines/")
                links = driver.find_elements(By.CSS_SELECTOR, "main table a[href^='/machines/']")
                if not links:
                    failures.append(f"{label}: the machine list has no machine links")
                detail = links[0].get_attribute("href")[len(base):] if links else "/machines/"
                pages = [("status", "/"), ("machines", "/machines/"), ("machine", detail),
                         ("add", "/machines/add/"), ("images", "/images/"), ("containers", "/containers/"),
                         ("error", "/machines/LOCAL1/nope/")]
                for name, path in pages:
                    driver.get(base + path)
                    shoot(driver, out, label, name, failures, size)
                # The confirmation step of a delete (the form's button, then the question; not confirmed).
                driver.get(base + detail)
                stops = [f for f in driver.find_elements(By.CSS_SELECTOR, "main form")
                         if (f.get_attribute("action") or "").endswith("/delete/")]
                if stops:
                    stops[0].find_element(By.TAG_NAME, "button").click()
                    shoot(driver, out, label, "confirm", failures, size)
                else:
                    failures.append(f"{label}: the machine page has no Delete form")
                driver.get(base + detail)
                keyboard(driver, label, failures)
            finally:
                driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    for failure in failures:
        print("FAIL " + failure)
    print("ok" if not failures else f"{len(failures)} failure(s)", flush=True)
    sys.exit(1 if failures else 0)


def keyboard(driver, label, failures):
    """Tabs through the machine page: the menu, log out and every action button are reached, each
    with a visible focus outline."""
    driver.find_element(By.TAG_NAME, "body").click()
    reached = []
    for _ in range(30):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        element = driver.switch_to.active_element
        if element.tag_name in ("body", "html"):
            continue  # past the last control, focus leaves the page for a step
        text = element.text.strip()
        outline = driver.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth]", element)
        if outline[0] == "none" or outline[1] in ("0px", ""):
            failures.append(f"{label} keyboard: focus on {element.tag_name} {text!r} is not visible ({outline})")
        reached.append(text)
    for wanted in ["Skip to content", "Machines", "Images", "Log out admin", "Delete"]:
        if wanted not in reached:
            failures.append(f"{label} keyboard: Tab never reaches {wanted!r} (reached {reached})")
    print(f"{label} keyboard: Tab reaches {sorted(set(t for t in reached if t))}", flush=True)


def shoot(driver, out, label, name, failures, size):
    width, inner = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    if inner != size[0]:
        failures.append(f"{label} {name}: the viewport is {inner} px wide, not {size[0]}")
    if width > inner:
        failures.append(f"{label} {name}: scrolls sideways ({width} px content in a {inner} px window)")
    violations = [entry["message"] for entry in driver.get_log("browser")
                  if "Content Security Policy" in entry["message"]]
    if violations:
        failures.append(f"{label} {name}: CSP violations: {violations}")
    styled = driver.execute_script(
        "return getComputedStyle(document.querySelector('header')).display")
    if styled != "flex":
        failures.append(f"{label} {name}: the style sheet did not apply (header display {styled})")
    low, checked = driver.execute_script(CONTRAST)
    if checked < 3:
        failures.append(f"{label} {name}: only {checked} texts found for the contrast check")
    if low:
        failures.append(f"{label} {name}: low contrast: {low}")
    # The whole page, not just the first screen.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": max(size[1], height), "deviceScaleFactor": 1, "mobile": size == PHONE})
    path = os.path.join(out, f"{name}-{label}.png")
    driver.save_screenshot(path)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size == PHONE})
    print(f"{label} {name}: scrollWidth {width} <= innerWidth {inner}: {width <= inner}, "
          f"{checked} texts with readable contrast -> {path}", flush=True)


if __name__ == "__main__":
    main()
