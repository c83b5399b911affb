"""The console in a real browser: Debian's headless Chromium driven by Selenium against the local
stack (`make run` as a subprocess). It signs in, uploads sample catalogs through the page, sees the
exchange with its counts and files, opens the diff of the second upload, opens a product, sees a
malformed file's reason, redelivers a webhook; and it walks the pages as the owner, the 1C
consultant and the operator would, at a desk's width and a phone's, each page checked by axe-core
(the npm package `make setup` installs). Screenshots go to test-artifacts/console/.

Nothing is downloaded at run time: the browser and its driver are Debian's (`.ci/run` installs
them); outside CI the test is skipped when they are missing."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_shop_api import DOBRO

ARTIFACTS = ROOT / "test-artifacts" / "console"
EMAIL, PASSWORD = "owner@demo.local", "demo-console"  # the local stack's demo console login


def _browser_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser():
    paths = _browser_paths()
    if paths is None:
        if os.environ.get("CI"):
            raise AssertionError(
                "CI runs the browser test: install chromium and chromium-driver (.ci/run does)"
            )
        pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never downloads a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait_for(driver, condition, seconds: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.3).until(condition)


def upload(driver, stack, path: Path) -> str:
    from selenium.webdriver.common.by import By

    driver.get(f"{stack.base}/console/exchanges")
    driver.find_element(By.ID, "upload-file").send_keys(str(path))
    driver.find_element(By.ID, "upload-button").click()
    wait_for(driver, lambda d: re.search(r"/console/exchanges/[0-9a-f]+$", d.current_url))
    wait_for(
        driver, lambda d: not d.find_elements(By.ID, "running") and d.find_elements(By.CSS_SELECTOR, ".job")
    )
    return driver.current_url.rsplit("/", 1)[1]


def test_a_person_runs_an_exchange_by_hand_and_follows_it(browser, live_stack, samples, tmp_path):
    stack = live_stack
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{stack.base}/console/")
    assert driver.current_url.endswith("/console/login"), "signed out: the login page"
    shot(driver, "01-login")
    driver.find_element(By.ID, "email").send_keys(EMAIL)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: d.current_url.endswith("/console/exchanges"))
    assert driver.find_element(By.ID, "tenant").text == "demo"
    assert wait_for(
        driver,
        lambda d: d.execute_script("return !!Chart.getChart(document.getElementById('chart-changed'))"),
    )

    catalog = samples / DOBRO / "import0_1.xml"
    upload(driver, stack, catalog)
    job = driver.find_element(By.CSS_SELECTOR, ".job")
    assert "done" in job.get_attribute("class") and re.search(r"создано \d+", job.text), job.text
    files = driver.find_element(By.ID, "files").text
    assert "import0_1.xml" in files and str(catalog.stat().st_size) in files
    shot(driver, "02-exchange")

    upload(driver, stack, samples / DOBRO / "offers0_1.xml")
    diff = driver.find_element(By.CSS_SELECTOR, "table.diff")
    assert "в продаже" in diff.text and driver.find_elements(By.CSS_SELECTOR, "table.diff ins")
    shot(driver, "03-diff")
    diff.find_element(By.CSS_SELECTOR, "a").click()
    wait_for(driver, lambda d: "/console/products/" in d.current_url)
    assert driver.find_element(By.ID, "product-name").text and driver.find_elements(
        By.CSS_SELECTOR, "#offers tbody tr"
    )
    shot(driver, "04-product")

    broken = tmp_path / "import.xml"
    broken.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация>\n<Каталог>\n</Товары>\n'
    )
    upload(driver, stack, broken)
    error = driver.find_element(By.CSS_SELECTOR, ".job-error").text
    assert "import.xml" in error and re.search(r"строк\w* \d", error), error
    shot(driver, "05-malformed")

    driver.get(f"{stack.base}/console/webhooks")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "button.redeliver"))
    driver.find_element(By.CSS_SELECTOR, "button.redeliver").click()
    wait_for(driver, lambda d: d.current_url.endswith("/console/webhooks"))
    shot(driver, "06-webhooks")
    driver.get(f"{stack.base}/console/exchanges")
    assert "webhook.redeliver" in driver.find_element(By.CSS_SELECTOR, "ul.actions").text
    shot(driver, "07-exchanges")


def test_a_twenty_megabyte_zip_uploads_by_hand_in_chunks_of_file_limit(browser, live_stack, tmp_path):
    """Real exports are larger than one request: the page sends `file_limit`-sized chunks, each
    through the protocol, and the worker walks the archive as one job."""
    import random

    from selenium.webdriver.common.by import By

    from tests.reliability import cml

    stack, driver = live_stack, browser
    driver.get(f"{stack.base}/console/exchanges")
    if driver.current_url.endswith("/console/login"):
        driver.find_element(By.ID, "email").send_keys(EMAIL)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login").click()
        wait_for(driver, lambda d: d.current_url.endswith("/console/exchanges"))
    photo = random.Random(20).randbytes(20_000_000)  # incompressible: the zip stays ~20 MB
    product = cml.product("big-photo", "Товар с большим фото", "<Картинка>import_files/ph/big.jpg</Картинка>")
    archive = tmp_path / "export20mb.zip"
    archive.write_bytes(cml.zipped({"import.xml": cml.catalog(product), "import_files/ph/big.jpg": photo}))
    assert archive.stat().st_size > 20_000_000
    upload(driver, stack, archive)
    jobs = driver.find_elements(By.CSS_SELECTOR, ".job")
    assert jobs and all("done" in j.get_attribute("class") for j in jobs), [j.text for j in jobs]
    files = driver.find_element(By.ID, "files").text
    assert "export20mb.zip" in files and str(archive.stat().st_size) in files, files
    shot(driver, "08-upload-20mb")


AXE = ROOT / ".local-state" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text() if AXE.exists() else ""
WIDTHS = {"desk": 1366, "phone": 390}


def sign_in(driver, stack, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{stack.base}/console/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: not d.current_url.endswith("/console/login"))


def checked(driver, name: str) -> None:
    """The page as it stands: axe-core (loaded into every page of the walk) finds no violation (at
    either width: a table that scrolls on a phone is a region a keyboard must reach), nothing
    wider than the window (tables scroll in their own box), and a screenshot kept."""
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v =>"
        " v.id + ': ' + v.help + ' @ ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))));"
    )
    wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert violations == [], f"{name}: {violations}"
    assert wide <= 0, f"{name}: {wide}px wider than the window"
    shot(driver, name)


def test_each_person_answers_their_question_at_a_desk_and_on_a_phone(browser, live_stack):
    """The owner: did the last exchange work and what changed (the exchanges page, one click to
    its diff). The consultant: why did this one fail — file, line, element (one click from the
    list). The operator: which shop is in trouble (the home page). At 1366 and 390 px, each page
    checked by axe-core."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: `make setup` installs axe-core from npm")
    stack, driver = live_stack, browser
    axe = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": AXE_SOURCE})
    try:
        walk(driver, stack)
    finally:  # the browser is the module's: the other tests' pages go without it
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": axe["identifier"]})


def walk(driver, stack) -> None:
    from selenium.webdriver.common.by import By

    from tests.reliability import cml

    products = cml.product("walk-1", "Кресло «Прогулка»") + cml.product("walk-2", "Стол «Прогулка»")
    assert stack.exchange("demo", "demo", "import.xml", cml.catalog(products)).startswith("success")
    offers = cml.offer("walk-1", "3", "4500") + cml.offer("walk-2", "0", "12000")
    assert stack.exchange("demo", "demo", "offers.xml", cml.offers(offers)).startswith("success")
    broken = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация>\n<Каталог>\n</Товары>\n'.encode()
    )
    assert stack.exchange("demo", "demo", "import.xml", broken).startswith("failure")

    sign_in(driver, stack, EMAIL)
    for device, width in WIDTHS.items():
        driver.set_window_size(width, 900)
        driver.get(f"{stack.base}/console/exchanges")
        banner = driver.find_element(By.ID, "banner").text
        assert "Каталог" in banner, banner
        checked(driver, f"walk-{device}-1-owner-exchanges")
        rows = driver.find_elements(By.CSS_SELECTOR, "#exchanges tbody tr")
        done = next(r for r in rows if "успешно" in r.text and "offers.xml" in r.text)
        done.find_element(By.CSS_SELECTOR, "a").click()
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.diff"))
        assert "Кресло «Прогулка»" in driver.find_element(By.CSS_SELECTOR, "table.diff").text
        checked(driver, f"walk-{device}-2-owner-diff")
        for page in ("connect", "catalog?view=out_of_stock", "orders", "webhooks", "settings", "users"):
            driver.get(f"{stack.base}/console/{page}")
            checked(driver, f"walk-{device}-3-owner-{page.split('?')[0]}")

        driver.get(f"{stack.base}/console/exchanges")
        failed = next(
            r for r in driver.find_elements(By.CSS_SELECTOR, "#exchanges tbody tr") if "ошибка" in r.text
        )
        failed.find_element(By.CSS_SELECTOR, "a").click()
        error = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".job-error"))[0].text
        assert "import.xml" in error and re.search(r"строк\w* \d", error), error
        checked(driver, f"walk-{device}-4-consultant-failure")

    sign_in(driver, stack, "operator@demo.local")
    assert driver.current_url.endswith("/console/tenants")
    for device, width in WIDTHS.items():
        driver.set_window_size(width, 900)
        driver.get(f"{stack.base}/console/tenants")
        demo = driver.find_element(By.CSS_SELECTOR, 'tr.shop[data-tenant="demo"]')
        assert "ошибка" in demo.text, demo.text
        checked(driver, f"walk-{device}-5-operator-home")
