// Headless Chromium opens GraphiQL with a subscription and an Authorization header in
// the page's URL, presses Run, says "running", and waits for an event to show.
import { chromium } from "playwright-core";

const [pageUrl, executablePath, expected] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.log(`pageerror ${error.message}`));
  await page.goto(pageUrl);
  await page.waitForSelector(".graphiql-execute-button", { timeout: 30000 });
  await page.click(".graphiql-execute-button");
  await page.waitForTimeout(1500);
  console.log("running");
  await page.waitForFunction(
    (text) => (document.querySelector(".graphiql-response")?.innerText ?? "").includes(text),
    expected,
    { timeout: 20000 },
  );
  console.log(`event ${await page.locator(".graphiql-response").innerText()}`.replace(/\s+/g, " "));
} catch (error) {
  console.log(`failed ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
