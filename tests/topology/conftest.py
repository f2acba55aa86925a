# The browser source in the topology test is the same headless Chromium as tests/browser/.
from tests.browser.conftest import browser, new_page  # noqa: F401
