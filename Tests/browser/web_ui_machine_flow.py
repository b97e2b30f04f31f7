#!/usr/bin/env python3
"""A machine's life in the web UI, in headless Chromium, on a real libvirt guest.

Starts `guesthouse serve --config CONFIG` at a free loopback port, logs in, creates machine NAME
from the form (provider QEMU1, plan tiny, the first image) and sees it listed, takes a snapshot and
reverts to it (through the confirmation page), stops the machine (confirmed), sees the state badge
follow a start made elsewhere without a reload, downloads the export archive with the session and
lists it with GNU tar, and deletes the machine (confirmed). Every page it passes is loaded at
390x844 as well: no sideways scroll (scrollWidth <= innerWidth), no CSP violation. Screenshots go
to SCREENSHOT_DIR as <page>-qemu-<phone|desktop>.png.

usage: web_ui_machine_flow.py GUESTHOUSE_BINARY CONFIG PASSWORD NAME [SCREENSHOT_DIR]
Prints "screenshots: DIR" and one line per step; exits non-zero when a step fails. Removing the
guest after a failure is the caller's job (the test's scratch provider removes everything it named).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_ui_pages import DESKTOP, PHONE, browser, click_to_next_page, free_port, log_in, settled  # noqa: E402


def start_server(binary, config, port, workdir):
    log = open(os.path.join(workdir, "serve.log"), "w+")
    process = subprocess.Popen([binary, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
                               stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process, log
        except OSError:
            pass
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"guesthouse serve exited early:\n{log.read()}")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("guesthouse serve did not start within 60 s")


class Flow:
    def __init__(self, base, password, name, out):
        self.base, self.password, self.name, self.out = base, password, name, out
        self.failures = []

    def check(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def fits(self, driver, label, page, size):
        """No sideways scroll, no CSP violation; saves the screenshot."""
        width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        violations = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        self.check(width <= inner, f"{label} {page}: scrollWidth {width} <= innerWidth {inner}")
        self.check(not violations, f"{label} {page}: no CSP violations {violations}")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": max(size[1], height), "deviceScaleFactor": 1, "mobile": size == PHONE})
        driver.save_screenshot(os.path.join(self.out, f"{page}-qemu-{label}.png"))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size == PHONE})

    def submit(self, driver, form_action_suffix, label=None):
        """Clicks the submit button of the form whose action ends with the suffix."""
        forms = [f for f in driver.find_elements(By.CSS_SELECTOR, "main form")
                 if (f.get_attribute("action") or "").endswith(form_action_suffix)
                 and (label is None or label in f.text)]
        if not self.check(bool(forms), f"a form posting to …{form_action_suffix}"):
            raise RuntimeError(f"no form {form_action_suffix}")
        click_to_next_page(driver, forms[0].find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def confirm(self, driver, question, page):
        settled(driver, 60).until(EC.title_contains("Please confirm"))
        self.check(question in driver.find_element(By.TAG_NAME, "main").text, f"the confirmation asks {question!r}")
        self.fits(driver, "desktop", page, DESKTOP)
        click_to_next_page(driver, driver.find_element(By.CSS_SELECTOR, "main form button.danger"))

    def badge(self, driver):
        return driver.find_element(By.CSS_SELECTOR, "[data-state-url]").text.strip()

    def run(self, driver):
        base, name = self.base, self.name
        log_in(driver, base, self.password)
        driver.get(base + "/machines/add/")
        driver.find_element(By.ID, "n").send_keys(name)
        driver.find_element(By.CSS_SELECTOR, "#pl option[value=tiny]").click()
        self.fits(driver, "desktop", "add", DESKTOP)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        settled(driver, 600).until(lambda d: re.search(r"/machines/QEMU1/[0-9a-f]{32}/$", d.current_url))
        machine = driver.current_url[len(base):]
        self.check(driver.title.startswith(f"Machine {name}"), f"created {name} at {machine}")
        self.check(self.badge(driver) == "running", f"{name} is running ({self.badge(driver)})")
        driver.get(base + "/machines/")
        self.check(name in [a.text for a in driver.find_elements(By.CSS_SELECTOR, "main table a")], f"{name} is listed")
        self.fits(driver, "desktop", "machines", DESKTOP)

        driver.get(base + machine)
        driver.find_element(By.ID, "snapshot-name").send_keys("first")
        self.submit(driver, "/snapshots/")
        settled(driver, 300).until(lambda d: d.current_url == base + machine)
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "main table.cards tr")]
        self.check(any("first" in r for r in rows), f"snapshot 'first' listed ({rows})")
        self.check(not driver.find_elements(By.CSS_SELECTOR, ".field-error, main > .error"), "no error after the snapshot")
        self.fits(driver, "desktop", "machine", DESKTOP)
        self.submit(driver, "/snapshots/first/revert/")
        self.confirm(driver, "Revert machine", "confirm")
        settled(driver, 300).until(lambda d: d.current_url == base + machine)
        self.check(not driver.find_elements(By.CSS_SELECTOR, ".field-error, main > .error"), "reverted to 'first'")

        self.submit(driver, machine + "stop/")
        self.confirm(driver, f"Stop machine {name} now?", "confirm-stop")
        settled(driver, 120).until(lambda d: d.current_url == base + machine)
        settled(driver, 60).until(lambda d: self.badge(d) == "stopped")
        self.check(True, f"{name} stopped")

        # A start made elsewhere shows up in the badge without a reload (the page's script polls).
        cookie = "guesthouse_session=" + driver.get_cookie("guesthouse_session")["value"]
        csrf = driver.find_element(By.CSS_SELECTOR, "meta[name=csrf-token]").get_attribute("content")
        marker = driver.execute_script("window.__noReload = true; return 1")
        request = urllib.request.Request(base + machine + "start/", data=urllib.parse.urlencode({"csrf": csrf}).encode(),
                                         headers={"Cookie": cookie}, method="POST")
        opener = urllib.request.build_opener(NoRedirect)
        status = opener.open(request, timeout=120).status
        self.check(status == 303, f"started elsewhere ({status})")
        try:
            settled(driver, 30).until(lambda d: self.badge(d) == "running")
            live = driver.execute_script("return window.__noReload === true && !document.getElementById('state-changed').hidden")
            self.check(live and marker == 1, "the badge turned 'running' without a reload, with the reload hint shown")
        except Exception as error:  # noqa: BLE001
            self.check(False, f"the badge did not follow the start ({error})")
        driver.get(base + machine)
        self.submit(driver, machine + "stop/")
        self.confirm(driver, f"Stop machine {name} now?", "confirm-stop")
        settled(driver, 60).until(lambda d: d.current_url == base + machine and self.badge(d) == "stopped")

        self.export(base + machine + "export/", cookie)

        # A second disk for the stopped machine, then grown (a problem would show beside its field).
        driver.get(base + machine)
        driver.find_element(By.ID, "disk-size").send_keys("1")
        self.submit(driver, machine + "disks/")
        settled(driver, 120).until(lambda d: d.current_url == base + machine)
        devices = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "td[data-label=Device]")]
        self.check(len(devices) == 2 and not driver.find_elements(By.CSS_SELECTOR, ".field-error"),
                   f"a disk added ({devices})")
        if len(devices) == 2:
            driver.find_element(By.CSS_SELECTOR, f"#resize-disk option[value={devices[1]}]").click()
            driver.find_element(By.ID, "resize-size").send_keys("2")
            self.submit(driver, machine + "disks/resize/")
            settled(driver, 120).until(lambda d: d.current_url == base + machine)
            sizes = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "td[data-label=Size]")]
            self.check(sizes[-1:] == ["2.0 GiB"] and not driver.find_elements(By.CSS_SELECTOR, ".field-error"),
                       f"the disk grown to 2 GiB ({sizes})")

        # An ISO into the CD-ROM and out again; the machine's config drive stays its own.
        driver.get(base + machine)
        for option in driver.find_elements(By.CSS_SELECTOR, "#media-image option"):
            if option.text == "rescue.iso":
                option.click()
        self.submit(driver, machine + "media/insert/")
        settled(driver, 120).until(lambda d: d.current_url == base + machine)
        main = driver.find_element(By.TAG_NAME, "main").text
        self.check("In the drive: rescue.iso" in main, "rescue.iso inserted")
        self.submit(driver, machine + "media/eject/")
        self.confirm(driver, "Eject the CD-ROM", "confirm-eject")
        settled(driver, 120).until(lambda d: d.current_url == base + machine)
        self.check("In the drive: nothing" in driver.find_element(By.TAG_NAME, "main").text, "rescue.iso ejected")

        self.phone(machine)

        driver.get(base + machine)
        self.submit(driver, machine + "delete/")
        self.confirm(driver, f"Delete machine {name}", "confirm-delete")
        settled(driver, 120).until(lambda d: d.current_url == base + "/machines/")
        self.check(name not in [a.text for a in driver.find_elements(By.CSS_SELECTOR, "main table a")],
                   f"{name} is gone from the list")

    def export(self, url, cookie):
        """The export link works with the web session alone; GNU tar reads the archive."""
        target = tempfile.mktemp(suffix=".tar", prefix="gh-web-export-")
        try:
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=600) as response, open(target, "wb") as out:
                kind = response.headers.get("Content-Type")
                shutil.copyfileobj(response, out)
            listing = subprocess.run(["tar", "-tf", target], capture_output=True, text=True)
            names = listing.stdout.split()
            self.check(kind == "application/x-tar" and listing.returncode == 0
                       and "domain.xml" in names and "guesthouse.json" in names and len(names) >= 3,
                       f"export: {os.path.getsize(target)} bytes, GNU tar lists {names}")
        finally:
            if os.path.exists(target):
                os.remove(target)

    def phone(self, machine):
        driver = browser(PHONE)
        try:
            log_in(driver, self.base, self.password)
            for page, path in [("status", "/"), ("machines", "/machines/"), ("machine", machine),
                               ("add", "/machines/add/"), ("containers", "/containers/")]:
                driver.get(self.base + path)
                self.fits(driver, "phone", page, PHONE)
            driver.get(self.base + machine)
            self.submit(driver, machine + "delete/")
            settled(driver, 30).until(EC.title_contains("Please confirm"))
            self.fits(driver, "phone", "confirm-delete", PHONE)
            driver.find_element(By.LINK_TEXT, "Cancel").click()
            settled(driver, 30).until(lambda d: d.current_url == self.base + machine)
        finally:
            driver.quit()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_303(self, req, fp, code, msg, headers):
        return fp


def main():
    binary, config, password, name = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                                      sys.argv[3], sys.argv[4])
    out = sys.argv[5] if len(sys.argv) > 5 else "/var/tmp/guesthouse-screenshots"
    os.makedirs(out, exist_ok=True)
    print(f"screenshots: {out}", flush=True)
    workdir = tempfile.mkdtemp(prefix="gh-browser-flow-")
    port = free_port()
    server, log = start_server(binary, config, port, workdir)
    flow = Flow(f"http://127.0.0.1:{port}", password, name, out)
    driver = browser(DESKTOP)
    driver.set_page_load_timeout(600)
    try:
        flow.run(driver)
    except Exception as error:  # noqa: BLE001
        flow.check(False, f"the flow stopped: {type(error).__name__}: {error} at {driver.current_url}")
        try:
            driver.save_screenshot(os.path.join(out, "failure-qemu-desktop.png"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
        if flow.failures:
            log.seek(0)
            print("server log (end):\n" + log.read()[-4000:])
        shutil.rmtree(workdir, ignore_errors=True)
    print("ok" if not flow.failures else f"{len(flow.failures)} failure(s)", flush=True)
    sys.exit(1 if flow.failures else 0)


if __name__ == "__main__":
    main()
