"""A new user's whole journey through the portal in a real browser (headless Chromium): sign in, the website wizard
step by step, the summary and the cost, the project page following the work live, every approval (one request for
changes, then the changes shown against the earlier version), and the published site. Every page is checked with
axe (no serious or critical violation), at desktop and phone width (nothing wider than the screen), and saved as a
screenshot.

Then the survey: its wizard, its first approval decided from the review link in the owner's e-mail (an .eml file,
no sign-in), the published form filled in by a stranger, and the answer in the owner's summary.

Usage: portal_journey.py BASE_URL EMAIL PASSWORD SCREENSHOT_FOLDER MAIL_FOLDER. Prints each step and exits non-zero
on the first surprise.
"""
import glob
import re
import os
import sys
import time
from urllib.parse import urlparse

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

base, email, password, shots, mail = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
started = time.time()
checked = set()


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what + (f": {detail}" if detail else ""), flush=True)
    if not condition:
        driver.save_screenshot(os.path.join(shots, "failure.png"))
        with open(os.path.join(shots, "failure.html"), "w") as page:
            page.write(driver.page_source)
        driver.quit()
        sys.exit(1)


def wait_for(what, condition, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return True
        except Exception:
            pass
        time.sleep(0.25)
    check(what, False, f"not within {seconds} s")


def page(name):
    """Checks the page once per name: accessibility, no sideways scrolling at phone width, a screenshot of both."""
    driver.save_screenshot(os.path.join(shots, f"{name}.png"))
    if name in checked:
        return
    checked.add(name)
    axe = Axe(driver)
    axe.inject()
    results = axe.run(options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]}})
    serious = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    check(f"{name}: no serious accessibility violation", not serious,
          "; ".join(f"{v['id']}: {v['help']} ({v['nodes'][0]['target']})" for v in serious))
    driver.set_window_size(390, 844)
    wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    driver.save_screenshot(os.path.join(shots, f"{name}-phone.png"))
    driver.set_window_size(1280, 900)
    check(f"{name}: fits a phone's width", wide <= 1, f"{wide} px too wide")


def navigate(element):
    """Clicks what loads another page, and waits for it."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:  # stale, or (Chromium) "does not belong to the document"
            return True

    WebDriverWait(driver, 20).until(gone)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text():
    return driver.find_element(By.TAG_NAME, "main").text


os.environ["SE_AVOID_STATS"] = "true"
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
driver.implicitly_wait(0)

# Sign in: the portal sends a person without a session to the sign-in page, then back.
driver.get(base + "/portal")
check("no session: the sign-in page", "/portal/sign-in" in driver.current_url, driver.current_url)
body = driver.find_element(By.TAG_NAME, "body")
body.send_keys(Keys.TAB)
check("the first Tab reaches 'Skip to content'", driver.switch_to.active_element.text == "Skip to content")
page("sign-in")
driver.find_element(By.ID, "email").send_keys(email)
driver.find_element(By.ID, "password").send_keys("not the password")
navigate(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
check("a wrong password says so", "not right" in text())


def sign_in():
    if "/portal/sign-in" not in driver.current_url:
        driver.get(base + "/portal/sign-in")
    driver.find_element(By.ID, "email").clear()
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    navigate(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    check("signed in: the dashboard", driver.current_url.rstrip("/").endswith("/portal"), driver.current_url)


sign_in()
page("dashboard-empty")

# The website wizard, one step at a time, checked in the page before it goes on.
navigate(driver.find_element(By.LINK_TEXT, "Create a website"))
check("the website wizard", "/portal/create/website" in driver.current_url)
page("wizard")
steps = driver.find_elements(By.CSS_SELECTOR, "fieldset[data-step]")
check("the questions come in steps, one shown", len(steps) >= 2 and [s.is_displayed() for s in steps].count(True) == 1)
next_button = driver.find_element(By.CSS_SELECTOR, "[data-next]")
next_button.click()
check("an empty step does not go on", steps[0].is_displayed() and not steps[1].is_displayed())
driver.find_element(By.ID, "f-name").send_keys("Crumb & Co website")
driver.find_element(By.ID, "f-p-company_name").send_keys("Crumb & Co")
driver.find_element(By.ID, "f-p-industry").send_keys("family bakery")
Select(driver.find_element(By.ID, "f-p-website_type")).select_by_value("business")
next_button.click()
check("a complete step goes on", steps[1].is_displayed() and not steps[0].is_displayed())
slider = driver.find_element(By.ID, "f-p-page_count")
for _ in range(2):
    slider.send_keys(Keys.ARROW_LEFT)
check("the slider shows its value", driver.find_element(By.ID, "f-p-page_count-value").text == "3")
driver.find_element(By.ID, "f-p-target_audience").send_keys("neighbours who want fresh bread")
driver.find_element(By.ID, "f-p-description").send_keys("A family bakery since 1987: opening hours, our breads and how to order.")
while not driver.find_element(By.CSS_SELECTOR, "[data-finish]").is_displayed():
    next_button.click()
navigate(driver.find_element(By.CSS_SELECTOR, "[data-finish]"))

# The summary and the cost, then "Create project".
check("the summary", "Your answers" in text() and "Crumb & Co" in text(), text()[:300])
check("the cost estimate", "What it can cost" in text() and "At most" in text())
page("wizard-summary")
navigate(driver.find_element(By.CSS_SELECTOR, "button[value=create]"))
check("the project page", "/portal/projects/" in driver.current_url, driver.current_url)
project_url = driver.current_url
page("project-running")

# Every approval until the project is done: the page follows the work without a reload.
def decide_until_done(ask_for_changes, first_by_mail=False):
    asked_for_changes = False
    saw_diff = False
    approvals = 0
    project_url = driver.current_url
    while True:
        wait_for("the project waits for a decision or is done",
                 lambda: driver.find_elements(By.CSS_SELECTOR, "a.button.primary[href*='/portal/approvals/']")
                 or "Published" in text() or "Failed" in driver.find_element(By.CSS_SELECTOR, "[data-field=state]").text,
                 seconds=240)
        if "Failed" in driver.find_element(By.CSS_SELECTOR, "[data-field=state]").text:
            check("the project does not fail", False, text()[:600])
        links = driver.find_elements(By.CSS_SELECTOR, "a.button.primary[href*='/portal/approvals/']")
        if not links:
            break
        page("project-waiting")
        approvals += 1
        if first_by_mail and approvals == 1:
            decide_by_mail(project_url)
            continue
        navigate(links[0])
        page("approval")
        saw_diff = saw_diff or "What changed since your last review" in text()
        items = driver.find_elements(By.CSS_SELECTOR, ".review-item")
        check(f"approval {approvals} shows what is approved", items and items[0].find_elements(By.CSS_SELECTOR, ".preview"))
        changes = items[-1].find_elements(By.CSS_SELECTOR, "input[data-decision=changes]")
        if ask_for_changes and not asked_for_changes and len(items) > 1 and changes:
            changes[0].click()
            feedback = items[-1].find_element(By.CSS_SELECTOR, "[data-when=changes] textarea")
            check("asking for changes opens the feedback box", feedback.is_displayed())
            feedback.send_keys("Mention that we bake without additives.")
            asked_for_changes = True
        navigate(driver.find_element(By.CSS_SELECTOR, "button[value=items]"))
        check("back on the project page after deciding", driver.current_url == project_url, driver.current_url)
    return approvals, asked_for_changes, saw_diff


def decide_by_mail(project_url):
    """Signs out, approves from the newest e-mail's review link, and signs in again."""
    navigate(driver.find_element(By.CSS_SELECTOR, ".signout button"))
    mails = sorted(glob.glob(os.path.join(mail, "*.eml")), key=os.path.getmtime)
    check("the approval e-mail was written", bool(mails))
    with open(mails[-1]) as message:
        link = re.search(r"https?://[^\s\"<>]+/review/[A-Za-z0-9._~-]+", message.read()).group(0)
    driver.get(base + urlparse(link.strip()).path)
    check("the review link opens the approval without a sign-in", "Approve" in text() and "Sign out" not in driver.page_source)
    page("review-link")
    navigate(driver.find_element(By.CSS_SELECTOR, "button[value=items]"))
    check("the decision is recorded", "Decision recorded" in text(), text()[:200])
    driver.get(base + urlparse(link.strip()).path)
    check("the link is used up", "This review link no longer works" in text(), text()[:200])
    sign_in()
    driver.get(project_url)


approvals, asked_for_changes, saw_diff = decide_until_done(ask_for_changes=True)
check("a request for changes was made and its new version shown against the old", asked_for_changes and saw_diff,
      f"asked {asked_for_changes}, diff {saw_diff}")
page("project-done")
site = driver.find_element(By.CSS_SELECTOR, "a[href*='/sites/']").get_attribute("href")
check("the published link", "/sites/" in site, site)
# The link names the public address the StageService was given; the test's Gateway serves the same path.
driver.get(base + urlparse(site).path)
check("the published site opens", "Crumb" in driver.title + driver.page_source, driver.title)
driver.save_screenshot(os.path.join(shots, "published-site.png"))

driver.get(base + "/portal")
check("the dashboard shows the project done", "Done" in text(), text()[:300])
page("dashboard")

# The survey: created in its wizard, its plan approved from the e-mail, its form filled in by a stranger.
driver.get(base + "/portal/create/survey")
page("wizard-survey")
driver.find_element(By.ID, "f-name").send_keys("Bread survey")
driver.find_element(By.ID, "f-p-title").send_keys("What do you think of our bread?")
driver.find_element(By.ID, "f-p-purpose").send_keys("Learn which breads and opening hours our customers want most.")
driver.find_element(By.ID, "f-p-respondents").send_keys("our customers")
next_button = driver.find_element(By.CSS_SELECTOR, "[data-next]")
while not driver.find_element(By.CSS_SELECTOR, "[data-finish]").is_displayed():
    next_button.click()
navigate(driver.find_element(By.CSS_SELECTOR, "[data-finish]"))
navigate(driver.find_element(By.CSS_SELECTOR, "button[value=create]"))
survey_url = driver.current_url
survey_approvals, _, _ = decide_until_done(ask_for_changes=False, first_by_mail=True)
form = driver.find_element(By.CSS_SELECTOR, "a[href*='/s/']").get_attribute("href")
answers_page = driver.find_element(By.LINK_TEXT, "See the answers").get_attribute("href")

cookies = driver.get_cookies()
driver.delete_all_cookies()
driver.get(base + urlparse(form).path)
check("the survey form opens for anyone", driver.find_elements(By.CSS_SELECTOR, "form button[type=submit]"))
driver.execute_script("""
  var done = {};
  document.querySelectorAll("form input, form textarea, form select").forEach(function (field) {
    if (field.closest(".trap") || field.type === "hidden") return;
    if (field.type === "radio" || field.type === "checkbox") {
      if (!done[field.name]) { field.checked = true; done[field.name] = true; }
    } else if (field.type === "number") { field.value = field.min || "1"; }
    else if (field.type === "date") { field.value = "2026-12-01"; }
    else if (field.type === "email") { field.value = "someone@example.com"; }
    else if (field.tagName === "SELECT") { field.selectedIndex = field.options.length > 1 ? 1 : 0; }
    else { field.value = "Fresh rye on Sundays"; }
  });
""")
driver.save_screenshot(os.path.join(shots, "survey-form.png"))
navigate(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
check("the answer is taken", "Thank" in driver.page_source, driver.page_source[:300])
driver.delete_all_cookies()
driver.get(base + "/portal")
for cookie in cookies:
    driver.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": "/"})
driver.get(answers_page)
check("the owner sees the answer", "1 response(s)" in text(), text()[:300])
check("and its summary chart", driver.find_elements(By.CSS_SELECTOR, "meter"))
page("survey-answers")

# Every other page, for accessibility and the phone's width: the inbox, the template picker, keys, the admin pages.
for name, path in [("approvals", "/portal/approvals"), ("create", "/portal/create"), ("keys", "/portal/keys"),
                   ("admin", "/portal/admin"), ("admin-templates", "/portal/admin/templates"),
                   ("admin-template", "/portal/admin/templates/website"), ("admin-users", "/portal/admin/users")]:
    driver.get(base + path)
    check(f"{name} opens", driver.find_elements(By.TAG_NAME, "h1"), driver.title)
    if name == "admin":
        check("the admin page shows the local provider's limit", "16 at once" in text(), text()[:400])
    page(name)
driver.get(base + "/portal/keys")
driver.find_element(By.ID, "key-name").send_keys("journey")
navigate(driver.find_element(By.CSS_SELECTOR, "form[action='/portal/keys'] button"))
check("a new key is shown once", driver.find_elements(By.CSS_SELECTOR, "code.secret"))
page("keys-made")
driver.quit()
print(f"journey: {approvals} website and {survey_approvals} survey approvals, {len(checked)} pages checked, "
      f"{time.time() - started:.0f} s", flush=True)
