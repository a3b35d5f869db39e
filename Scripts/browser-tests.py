#!/usr/bin/env python3
"""The member's page (`reflect ui`) in a real browser: headless Chromium driven by Selenium, against the real
`reflect` and `reflectd` (debug builds, as `swift test` leaves them), each check a step a member or an attacker
takes. Screenshots of the main views go to docs/screenshots/ (committed, shown in the README).

Usage: Scripts/browser-tests.sh   (installs Selenium from PyPI if needed; needs Debian's chromium and
chromium-driver, which .ci/run installs)
"""
import json, os, socket, ssl, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error
import http.server

os.environ["SE_OFFLINE"] = "true"  # use the installed driver; never reach the network
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                     check=True).stdout.strip()
REFLECT, REFLECTD = os.path.join(BIN, "reflect"), os.path.join(BIN, "reflectd")
SHOTS = os.path.join(ROOT, "docs", "screenshots")
PASSWORD = "browser test password\n"
failures = []


def check(description, condition):
    print(("ok   " if condition else "FAIL ") + description, flush=True)
    if not condition:
        failures.append(description)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """reflectd on a fixed port and data folder, so that it can stop and come back at the same address."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="browser-reflectd-")
        self.port = free_port()
        self.process = None

    def start(self):
        log = open(os.path.join(self.data, "server.log"), "a")
        self.process = subprocess.Popen([REFLECTD, "serve", "--data", self.data, "--port", str(self.port)],
                                        stdout=log, stderr=log, env={**os.environ, "LOG_LEVEL": "warning"})
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("reflectd did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def pin(self):
        return subprocess.run([REFLECTD, "fingerprint", "--data", self.data], capture_output=True, text=True,
                              check=True).stdout.strip()


def reflect(home, *arguments, stdin=None):
    return subprocess.run([REFLECT, "--home", home, *arguments], input=stdin, capture_output=True, text=True)


def device(server, register):
    home = tempfile.mkdtemp(prefix="browser-home-")
    url = f"https://127.0.0.1:{server.port}"
    assert reflect(home, "init", "--server", url, "--pin", server.pin()).returncode == 0
    command = "register" if register else "login"
    result = reflect(home, command, "--user", "amara", "--password-stdin", stdin=PASSWORD)
    assert result.returncode == 0, result.stderr
    return home


def raw(method, url, headers=None, body=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main():
    server = Server()
    server.start()
    laptop, phone = device(server, True), device(server, False)
    ui = subprocess.Popen([REFLECT, "--home", laptop, "ui"], stdout=subprocess.PIPE, text=True)
    first = ui.stdout.readline().strip()
    check("the first line says what to open", first.startswith("Open http://127.0.0.1:"))
    address = first.removeprefix("Open ")
    base = address.split("/open?")[0]
    port = int(base.split(":")[2].split("/")[0])

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,900"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)

    def go(by, value):
        """Clicks what navigates (a link, a form's button) and waits until the next page has replaced this one."""
        old = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(by, value).click()
        WebDriverWait(driver, 60).until(expected_conditions.staleness_of(old))

    attacker = None
    try:
        # Written with the server stopped: saved here and listed at once.
        server.stop()
        driver.get(address)
        check("the key opens the page", "Reflections" in driver.title)
        go(By.LINK_TEXT, "Write")
        driver.find_element(By.ID, "title").send_keys("On the ward")
        driver.find_element(By.ID, "body").send_keys("Written in the browser, with no signal.")
        driver.find_element(By.ID, "community").click()
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, "write.png"))
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("a form from the page itself is accepted (Origin and token)",
              driver.find_element(By.TAG_NAME, "h1").text == "On the ward")
        go(By.LINK_TEXT, "Mine")
        main_text = driver.find_element(By.TAG_NAME, "main").text
        check("written offline, it is listed at once, not sent yet",
              "On the ward" in main_text and "not sent yet" in main_text)

        # The server comes back; "Sync now" sends it; the phone gets it.
        server.start()
        started = time.monotonic()
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        print(f"     (Sync now took {time.monotonic() - started:.1f} s)")
        check("Sync now says it synced", "Synced." in driver.find_element(By.TAG_NAME, "main").text)
        reflect(phone, "sync")
        listed = reflect(phone, "--json", "list")
        titles = [r["reflection"]["title"] for r in json.loads(listed.stdout)]
        check("the other device has what the page wrote offline", "On the ward" in titles)
        reflection_id = next(r["reflection"]["id"] for r in json.loads(listed.stdout)
                             if r["reflection"]["title"] == "On the ward")

        # A comment from the phone shows on the page; one from the page reaches the phone.
        reflect(phone, "comment", reflection_id, "--file", "-", stdin="Seen on the phone.")
        reflect(phone, "sync")
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        go(By.LINK_TEXT, "On the ward")
        check("the phone's comment is on the page", "Seen on the phone." in driver.page_source)
        driver.find_element(By.ID, "comment").send_keys("Answered in the browser.")
        go(By.CSS_SELECTOR, "form[action$='/comment'] button")
        driver.save_screenshot(os.path.join(SHOTS, "reflection.png"))
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        reflect(phone, "sync")
        shown = reflect(phone, "show", reflection_id)
        check("the page's comment reaches the phone", "Answered in the browser." in shown.stdout)

        # Edit one's own reflection on the page.
        go(By.LINK_TEXT, "On the ward")
        go(By.LINK_TEXT, "Edit")
        body = driver.find_element(By.ID, "body")
        body.clear()
        body.send_keys("Written in the browser, with no signal; edited later.")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("an edit of one's own reflection is saved",
              "edited later." in driver.find_element(By.TAG_NAME, "main").text)

        # A conflict: the phone and the page change the same words while the server is away (with it up, the
        # page's live sync would hand it the phone's change first). Both versions are shown side by side with the
        # differing words marked; a merged text ends it on both devices.
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        reflect(phone, "sync")
        server.stop()
        go(By.LINK_TEXT, "On the ward")
        go(By.LINK_TEXT, "Edit")
        body = driver.find_element(By.ID, "body")
        body.clear()
        body.send_keys("Written in the browser, with no signal; edited on the laptop.")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        reflect(phone, "edit", reflection_id, "--file", "-",
                stdin="Written in the browser, with no signal; edited on the phone.")
        server.start()
        reflect(phone, "sync")
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        go(By.PARTIAL_LINK_TEXT, "open conflict")
        go(By.LINK_TEXT, "On the ward")
        sides = driver.find_elements(By.CSS_SELECTOR, ".side")
        check("both versions are side by side", len(sides) == 2
              and {"laptop", "phone"} == {m.text.strip(" .") for side in sides
                                          for m in side.find_elements(By.CSS_SELECTOR, ".side-text mark")})
        check("the words they share are not marked",
              all("no signal" not in m.text for m in driver.find_elements(By.TAG_NAME, "mark")))
        driver.save_screenshot(os.path.join(SHOTS, "conflict.png"))
        merged = driver.find_element(By.ID, "merged")
        merged.clear()
        merged.send_keys("Written in the browser, with no signal; edited on the laptop and on the phone.")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("the merged text is the reflection now",
              "on the laptop and on the phone." in driver.find_element(By.TAG_NAME, "main").text
              and "Resolved here" in driver.page_source)
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        check("no conflict is open any more", "open conflict" not in driver.page_source)
        reflect(phone, "sync")
        shown = reflect(phone, "show", reflection_id).stdout
        check("the phone has the merged text and no conflict",
              "on the laptop and on the phone." in shown and "CONFLICT" not in shown)

        # A script in a title is text, never code.
        go(By.LINK_TEXT, "Write")
        driver.find_element(By.ID, "title").send_keys("<script>document.title='pwned'</script>")
        driver.find_element(By.ID, "body").send_keys("<img src=x onerror=\"document.title='pwned'\">")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        go(By.LINK_TEXT, "Reflections")
        time.sleep(0.3)
        check("a script in a title or body does not run", driver.title != "pwned")
        check("it is shown as text", "<script>document.title='pwned'</script>"
              in driver.find_element(By.TAG_NAME, "main").text)
        driver.save_screenshot(os.path.join(SHOTS, "list.png"))
        # Deleting asks first; the confirmed delete removes it from the list.
        go(By.PARTIAL_LINK_TEXT, "<script>")
        go(By.LINK_TEXT, "Delete")
        go(By.CSS_SELECTOR, "form[action$='/delete'] button")
        check("a confirmed delete removes it", "<script>" not in driver.find_element(By.TAG_NAME, "main").text)
        go(By.LINK_TEXT, "Sync log")
        check("the sync log is there", "Sync log" in driver.find_element(By.TAG_NAME, "h1").text)

        # Another page on this machine (another port: same site, so the browser would send the cookie) posts a
        # form to the page, knowing even its full address: refused by Origin, nothing written.
        before = len(json.loads(reflect(laptop, "--json", "list").stdout))
        attacker_port = free_port()
        page = (f"<!doctype html><form id=f method=post action='{base}/write'>"
                "<input name=title value=Forged><input name=body value=Forged><input name=csrf value=guess>"
                "</form><script>document.getElementById('f').submit()</script>")

        class Evil(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page.encode())

            def log_message(self, *args):
                pass

        attacker = http.server.HTTPServer(("127.0.0.1", attacker_port), Evil)
        threading.Thread(target=attacker.serve_forever, daemon=True).start()
        driver.get(f"http://127.0.0.1:{attacker_port}/")
        time.sleep(1)
        check("another site's form is refused", "Refused" in driver.page_source)
        after = len(json.loads(reflect(laptop, "--json", "list").stdout))
        check("and writes nothing", after == before)

        # Without the key, or by another name for the address (DNS rebinding): nothing.
        status, body = raw("GET", f"{base}/")
        check("no key: refused", status == 403 and "On the ward" not in body)
        cookie = {"Cookie": f"reflect_page={address.split('key=')[1]}"}
        status, body = raw("GET", f"{base}/", {**cookie, "Host": f"rebound.example:{port}"})
        check("another host name: refused", status == 421 and "On the ward" not in body)
        status, _ = raw("GET", f"{base}/", cookie)
        check("the key's cookie: the page", status == 200)
    finally:
        driver.quit()
        ui.terminate()
        ui.wait(timeout=30)
        if attacker:
            attacker.shutdown()
        if server.process and server.process.poll() is None:
            server.stop()
    if failures:
        print(f"browser tests: {len(failures)} failed", file=sys.stderr)
        sys.exit(1)
    print("browser tests: all passed")


main()
