#!/usr/bin/env python3
"""Opens a real guest's consoles in headless Chromium, as a user of the web UI would.

The server (started by the calling Swift test, on a real qemu:///system guest) is at BASE. The
script logs in through the form, opens the serial console page, resets the guest once the page's
websocket is connected (`virsh reset`, so the boot happens while the page watches) and waits for
the guest's boot marker to show in the page; then opens the VNC page and waits for noVNC to
report the RFB session connected with its canvas drawn. Both pages are checked for CSP
violations and sideways scrolling at phone size, and photographed at both sizes.

usage: console_pages.py BASE PASSWORD PROVIDER MACHINE DOMAIN [SCREENSHOT_DIR]
Prints "screenshots: DIR" and one line per check; exits non-zero when a check fails.
"""
import os
import subprocess
import sys
import time

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_ui_pages import DESKTOP, PHONE, browser, log_in  # noqa: E402

MARKER = "GUESTHOUSE-BOOTED"


def wait_for(what, seconds, check):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return check()


def state(driver):
    return driver.execute_script("return document.getElementById('console').dataset.state")


def csp_violations(driver):
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def shoot(driver, out, name, label, size, failures):
    width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner:
        failures.append(f"{label} {name}: scrolls sideways ({width} px content in a {inner} px window)")
    path = os.path.join(out, f"{name}-{label}.png")
    driver.save_screenshot(path)
    print(f"{label} {name}: scrollWidth {width} <= innerWidth {inner}: {width <= inner} -> {path}", flush=True)


def main():
    base, password, provider, machine, domain = sys.argv[1:6]
    out = sys.argv[6] if len(sys.argv) > 6 else "/var/tmp/guesthouse-screenshots"
    os.makedirs(out, exist_ok=True)
    print(f"screenshots: {out}", flush=True)
    failures = []
    serial_path = f"/machines/{provider}/{machine}/console/serial/"
    vnc_path = f"/machines/{provider}/{machine}/console/vnc/"

    driver = browser(DESKTOP)
    try:
        log_in(driver, base, password)
        # Serial: the page connects, the guest boots anew, its marker shows in the terminal.
        driver.get(base + serial_path)
        if wait_for("serial socket", 30, lambda: state(driver) == "connected") != True:
            failures.append(f"serial: the page's websocket did not connect (state {state(driver)!r})")
        else:
            reset = subprocess.run(["virsh", "-c", "qemu:///system", "reset", domain], capture_output=True, text=True)
            if reset.returncode != 0:
                failures.append(f"serial: virsh reset failed: {reset.stderr}")
            text = lambda: driver.execute_script("return document.getElementById('console').innerText")
            if wait_for("boot marker", 180, lambda: MARKER in text()):
                print(f"serial: read {MARKER} in the page", flush=True)
            else:
                failures.append(f"serial: {MARKER} never showed in the page; it shows: {text()[-1500:]!r}")
        violations = csp_violations(driver)
        if violations:
            failures.append(f"serial: CSP violations: {violations}")
        shoot(driver, out, "console-serial", "desktop", DESKTOP, failures)

        # VNC: noVNC speaks RFB through the websocket and draws the guest's screen on its canvas.
        driver.get(base + vnc_path)
        if wait_for("vnc", 60, lambda: state(driver) in ("connected", "disconnected")) and state(driver) == "connected":
            size = driver.execute_script(
                "const c = document.querySelector('#console canvas'); return c ? [c.width, c.height] : null")
            if not size or size[0] < 100 or size[1] < 100:
                failures.append(f"vnc: noVNC connected but its canvas is {size}")
            else:
                # Drawn, not blank: some pixel differs from the first one.
                drawn = wait_for("vnc pixels", 30, lambda: driver.execute_script("""
                    const c = document.querySelector('#console canvas');
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    for (let i = 4; i < d.length; i += 4) {
                      if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
                    }
                    return false;"""))
                print(f"vnc: noVNC connected, canvas {size[0]}x{size[1]}, drawn: {bool(drawn)}", flush=True)
                if not drawn:
                    failures.append("vnc: the canvas stayed one colour")
        else:
            status = driver.find_element(By.ID, "console-status").text
            failures.append(f"vnc: noVNC did not connect (state {state(driver)!r}, status {status!r})")
        violations = csp_violations(driver)
        if violations:
            failures.append(f"vnc: CSP violations: {violations}")
        shoot(driver, out, "console-vnc", "desktop", DESKTOP, failures)
    finally:
        driver.quit()

    driver = browser(PHONE)
    try:
        log_in(driver, base, password)
        for name, path in (("console-serial", serial_path), ("console-vnc", vnc_path)):
            driver.get(base + path)
            wait_for(name, 30, lambda: state(driver) == "connected")
            shoot(driver, out, name, "phone", PHONE, failures)
    finally:
        driver.quit()

    for failure in failures:
        print("FAIL " + failure)
    print("ok" if not failures else f"{len(failures)} failure(s)", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
