"""Specs of the Pillow instances (our statements and workload lists); run to (re)write specs/*.json."""

from common import write

REPO = "python-pillow/Pillow"
KEEP = (
    "Pillow's C core (`PIL._imaging`, sources under `src/`) is compiled by the install step. Every "
    "pixel of every result, for every image mode and size, must stay the same, as must the results "
    "of every other public API, and the tests under `Tests/` must keep passing."
)


def inst(iid, opt, api, kind, problem, workloads, guards):
    write(iid, REPO, opt, api, kind, problem + "\n\n" + KEEP, workloads, guards)


inst(
    "python-pillow__Pillow-53e02c4",
    "53e02c43c",
    "PIL.Image.new with a fill colour",
    "vectorization",
    "Creating an image filled with a colour (`PIL.Image.new(mode, size, colour)`) is slower than "
    "writing that much memory should be, for multi-band modes (RGB, RGBA) and for 32-bit modes "
    "(I, F) alike. Drawing code that starts every frame from a blank canvas pays for it each time.\n\n"
    "Make `Image.new` with a fill colour faster.",
    [
        {
            "name": "new_canvas_rgb",
            "visible": True,
            "description": "Image.new('RGB') of 12 canvases 800x600-1200x900",
        },
        {"name": "new_tiles_mixed", "description": "Image.new of 300 RGB, RGBA, I and F tiles"},
        {"name": "new_rgba_layers", "description": "Image.new of RGBA, I and F layers of 1024x768"},
    ],
    ["Tests/test_image.py", "Tests/test_image_putalpha.py", "Tests/test_image_getbbox.py"],
)

inst(
    "python-pillow__Pillow-5c9ca56",
    "5c9ca56c3",
    "PIL.ImageChops.invert",
    "vectorization",
    "`PIL.ImageChops.invert(image)` (the negative of an image) is slower than such a simple "
    "per-byte operation should be, for grayscale, RGB and RGBA images alike.\n\n"
    "Make `ImageChops.invert` faster.",
    [
        {
            "name": "invert_photos",
            "visible": True,
            "description": "invert of 6 RGB photos of about 1000x750",
        },
        {"name": "invert_masks_l", "description": "invert of 150 L masks of 200-500 pixels a side"},
        {"name": "invert_rgba_layers", "description": "invert of 4 RGBA layers of 1600x1200"},
    ],
    ["Tests/test_imagechops.py", "Tests/test_imageops.py"],
)
