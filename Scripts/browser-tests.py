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
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
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


CONTRAST = """
function luminance(rgb) {
  var c = rgb.match(/[0-9.]+/g).slice(0, 3).map(function (v) {
    v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function background(e) {
  for (; e; e = e.parentElement) {
    var b = getComputedStyle(e).backgroundColor;
    if (b && b !== "transparent" && !/rgba\(.*, 0\)$/.test(b)) { return b; }
  }
  return "rgb(255, 255, 255)";
}
var worst = [];
document.querySelectorAll("a, p, li, h1, h2, label, button, legend, summary, td, th, span, mark, textarea, input, select")
  .forEach(function (e) {
    if (!e.offsetParent || !e.textContent.trim() && !e.value) { return; }
    var a = luminance(getComputedStyle(e).color), b = luminance(background(e));
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) { worst.push(e.tagName + " " + (e.className || "") + " " + ratio.toFixed(2)); }
  });
return worst;
"""

UNLABELLED = """
return Array.prototype.filter.call(document.querySelectorAll("input, textarea, select"), function (e) {
  return e.type !== "hidden" && e.labels.length === 0 && !e.getAttribute("aria-label");
}).map(function (e) { return e.id || e.name; });
"""


def replaced(element):
    """Whether the page that held `element` is gone (Chrome reports a node of a page being replaced in more than
    one way)."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def text_of(selector):
    """An element's text, read at once (a live update may replace an element between a find and a read)."""
    return DRIVER[0].execute_script("var e = document.querySelector(arguments[0]); return e ? e.innerText : ''",
                                    selector)


DRIVER = []


def accessibility(driver, go):
    """Keyboard only, visible focus, labels, WCAG AA contrast; readable at 200 % zoom and at a phone's width."""
    base_views = []
    go(By.LINK_TEXT, "Reflections")
    for name in ["Reflections", "Write", "Sync log"]:
        go(By.LINK_TEXT, name)
        base_views.append(driver.current_url)
        check(f"every field on '{name}' has a label", driver.execute_script(UNLABELLED) == [])
        low = driver.execute_script(CONTRAST)
        check(f"all text on '{name}' meets WCAG AA contrast (4.5:1)" + (f": {low[:3]}" if low else ""), not low)

    # Keyboard only: from the top of the list, Tab to "Write", write and save without a mouse.
    driver.get(base_views[0])
    body = driver.find_element(By.TAG_NAME, "body")
    reached = False
    for _ in range(25):
        webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
        active = driver.switch_to.active_element
        outline = driver.execute_script(
            "var s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];")
        if outline[0] == "none" or outline[1] in ("0px", ""):
            check(f"focus is visible on {active.tag_name} '{active.text[:20]}'", False)
            break
        if active.tag_name == "a" and active.text == "Write":
            reached = True
            break
    check("Tab reaches Write, focus visible at every step", reached)
    old = driver.find_element(By.TAG_NAME, "html")
    webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 30).until(lambda d: replaced(old))
    for _ in range(20):
        if driver.switch_to.active_element.get_attribute("id") == "title":
            break
        webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
    check("Tab reaches the title field", driver.switch_to.active_element.get_attribute("id") == "title")
    keys = webdriver.ActionChains(driver)
    keys.send_keys("Typed with the keyboard only").send_keys(Keys.TAB).send_keys("No mouse was used.")
    keys.send_keys(Keys.TAB).send_keys(Keys.SPACE)  # "Only me (private)", selected with the space bar
    keys.perform()
    for _ in range(6):
        active = driver.switch_to.active_element
        if active.tag_name == "button" and active.text == "Save":
            break
        webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
    old = driver.find_element(By.TAG_NAME, "html")
    webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 30).until(lambda d: replaced(old))
    check("a reflection is written and saved with the keyboard only",
          text_of("h1") == "Typed with the keyboard only")
    base_views.append(driver.current_url)

    # 200 % zoom (a 1000-pixel window shows 500 CSS pixels) and a phone: nothing needs sideways scrolling.
    for label, metrics in [("at 200 % zoom", {"width": 500, "height": 450, "deviceScaleFactor": 2, "mobile": False}),
                           ("at a phone's width", {"width": 360, "height": 740, "deviceScaleFactor": 3,
                                                   "mobile": True})]:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        for url in base_views:
            driver.get(url)
            wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            check(f"{url.rsplit('/', 1)[-1] or 'list'} fits {label} (no sideways scroll)", wide <= 0)
        if metrics["mobile"]:
            driver.get(base_views[0])
            driver.save_screenshot(os.path.join(SHOTS, "phone.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


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
    DRIVER.append(driver)
    driver.implicitly_wait(5)

    def main_text():
        return text_of("main")

    def go(by, value):
        """Clicks what navigates (a link, a form's button) and waits until the next page has replaced this one.
        A live update may put fresh content in place just before the click: then the click is tried again."""
        old = driver.find_element(By.TAG_NAME, "html")
        for attempt in range(5):
            try:
                driver.find_element(by, value).click()
                break
            except StaleElementReferenceException:
                time.sleep(0.2)
        WebDriverWait(driver, 60).until(lambda d: replaced(old))

    attacker = None
    try:
        # Written with the server stopped: saved here and listed at once.
        server.stop()
        driver.get(address)
        check("the key opens the page", "Reflections" in driver.title)

        # Unsaved text survives a reload: the script keeps it as a draft every few seconds.
        go(By.LINK_TEXT, "Write")
        driver.find_element(By.ID, "title").send_keys("Half written")
        driver.find_element(By.ID, "body").send_keys("Typed, then the tab was reloaded.")
        WebDriverWait(driver, 15).until(
            lambda d: "Draft kept" in text_of(".draft-status"))
        driver.refresh()
        check("a reload brings the unsaved text back",
              driver.find_element(By.ID, "body").get_attribute("value") == "Typed, then the tab was reloaded."
              and driver.find_element(By.ID, "title").get_attribute("value") == "Half written"
              and "is back" in text_of(".draft-status"))
        go(By.XPATH, "//button[text()='Discard the unsaved text']")
        check("a discarded draft is gone", driver.find_element(By.ID, "body").get_attribute("value") == "")
        # Typing, then another form on the page (Sync now) before the next keep: the text is kept on the way out.
        driver.find_element(By.ID, "body").send_keys("Typed, then Sync now at once.")
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        go(By.LINK_TEXT, "Write")
        check("text typed just before another form was sent is kept",
              driver.find_element(By.ID, "body").get_attribute("value") == "Typed, then Sync now at once.")
        go(By.XPATH, "//button[text()='Discard the unsaved text']")
        go(By.LINK_TEXT, "Write")
        driver.find_element(By.ID, "title").send_keys("On the ward")
        driver.find_element(By.ID, "body").send_keys("Written in the browser, with no signal.")
        driver.find_element(By.ID, "community").click()
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, "write.png"))
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("a form from the page itself is accepted (Origin and token)",
              text_of("h1") == "On the ward")
        go(By.LINK_TEXT, "Mine")
        listed_text = main_text()
        check("written offline, it is listed at once, not sent yet",
              "On the ward" in listed_text and "not sent yet" in listed_text)

        # The server comes back; "Sync now" sends it; the phone gets it.
        server.start()
        started = time.monotonic()
        go(By.CSS_SELECTOR, "form[action$='/sync'] button")
        print(f"     (Sync now took {time.monotonic() - started:.1f} s)")
        check("Sync now says it synced", "Synced." in main_text())
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

        # Live: the phone shares a reflection; the page, left alone on the list, shows it without a click.
        go(By.LINK_TEXT, "Reflections")
        reflect(phone, "write", "--title", "From the phone, live", "--visibility", "community", "--file", "-",
                stdin="Sent while the page was open.")
        reflect(phone, "sync")
        try:
            WebDriverWait(driver, 30).until(
                lambda d: "From the phone, live" in main_text())
            check("the page shows another device's writing as it arrives", True)
        except Exception:
            check("the page shows another device's writing as it arrives", False)
            stored = [r["reflection"]["title"] for r in json.loads(reflect(laptop, "--json", "list").stdout)]
            print("     the page's store holds:", stored, "; the banner says:",
                  text_of(".sync").replace("\n", " "))
            print("     the tab's stream:", driver.execute_script(
                "return [document.body.dataset.live, document.body.dataset.changed, document.body.dataset.generation]"))
            try:
                request = urllib.request.Request(f"{base}/events?since=999999",
                                                 headers={"Cookie": f"reflect_page={address.split('key=')[1]}"})
                print("     a new stream:", urllib.request.urlopen(request, timeout=3).status)
            except urllib.error.HTTPError as error:
                print("     a new stream:", error.code)

        # Edit one's own reflection on the page.
        go(By.LINK_TEXT, "On the ward")
        go(By.LINK_TEXT, "Edit")
        body = driver.find_element(By.ID, "body")
        body.clear()
        body.send_keys("Written in the browser, with no signal; edited later.")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("an edit of one's own reflection is saved",
              "edited later." in main_text())

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
        sides, marks = driver.execute_script(
            "return [document.querySelectorAll('.side').length,"
            " Array.prototype.map.call(document.querySelectorAll('.side .side-text mark'), m => m.textContent)]")
        check("both versions are side by side", sides == 2 and {"laptop", "phone"} == {m.strip(" .") for m in marks})
        check("the words they share are not marked", all("no signal" not in m for m in marks))
        driver.save_screenshot(os.path.join(SHOTS, "conflict.png"))
        merged = driver.find_element(By.ID, "merged")
        merged.clear()
        merged.send_keys("Written in the browser, with no signal; edited on the laptop and on the phone.")
        go(By.CSS_SELECTOR, "form.editor button[type=submit]")
        check("the merged text is the reflection now",
              "on the laptop and on the phone." in main_text()
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
              in main_text())
        driver.save_screenshot(os.path.join(SHOTS, "list.png"))
        # Deleting asks first; the confirmed delete removes it from the list.
        go(By.PARTIAL_LINK_TEXT, "<script>")
        go(By.LINK_TEXT, "Delete")
        go(By.CSS_SELECTOR, "form[action$='/delete'] button")
        check("a confirmed delete removes it", "<script>" not in main_text())
        go(By.LINK_TEXT, "Sync log")
        check("the sync log is there", "Sync log" in text_of("h1"))

        accessibility(driver, go)

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
