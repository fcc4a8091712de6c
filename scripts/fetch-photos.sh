#!/usr/bin/env bash
# Fetches real photographs shipped in two Debian 12 packages — python3-skimage (skimage/data) and opencv-doc
# (examples/data) — for calibrating and evaluating quantized models (modelconv quantize / compare).
#
#   scripts/fetch-photos.sh [DEST]        DEST defaults to $EDGE_PHOTOS or ~/.cache/edgeruntime/photos
#
# Uses `apt-get download` + `dpkg -x` (no installation, no root needed besides a readable apt cache; the packages are
# "Architecture: all"). Only the photographs are copied, into DEST/skimage/ and DEST/opencv/; masks, synthetic
# drawings, text pages, logos, palettes, paintings and renders are left out (the lists below name every kept file).
# Idempotent: files already in DEST are kept; the downloaded .deb files are cached in DEST/.debs.
# Prints the number of photos in DEST as the last line: "N photos in DEST".
set -euo pipefail

dest=${1:-${EDGE_PHOTOS:-$HOME/.cache/edgeruntime/photos}}

# Photographs (natural scenes, objects, animals, people, textures, microscopy/astronomy/medical photographs).
# Excluded from skimage/data: block, bw_text, checker_bilevel, chessboard_*, clock_motion (synthetic), color (synthetic),
#   foo3x5x4indexed, green_palette, horse (silhouette), logo, microaneurysms (tiny crop), page, palette_*, phantom,
#   text, truncated (a deliberately broken file).
skimage_photos=(astronaut.png brick.png camera.png cell.png chelsea.png coffee.png coins.png grass.png gravel.png
  hubble_deep_field.jpg ihc.png moon.png motorcycle_left.png motorcycle_right.png retina.jpg rocket.jpg)
# Excluded from opencv examples/data: Blender_Suzanne* (renders), LinuxLogo, WindowsLogo, opencv-logo*, aloeGT
#   (disparity map), blox, cards, chessboard, detect_blob, digits, ellipses, gradient, imageText*, mask, ml, notes,
#   pic1-6, templ, tmpl (synthetic or text), ela_modified (tampered copy of ela_original), left01-14/right01-14
#   (calibration chessboards), starry_night (painting), text_defocus, text_motion.
opencv_photos=(HappyFish.jpg aero1.jpg aero3.jpg aloeL.jpg aloeR.jpg apple.jpg baboon.jpg basketball1.png
  basketball2.png board.jpg box.png box_in_scene.png building.jpg butterfly.jpg chicky_512.png ela_original.jpg
  fruits.jpg graf1.png graf3.png home.jpg left.jpg right.jpg leuvenA.jpg leuvenB.jpg licenseplate_motion.jpg
  messi5.jpg orange.jpg pca_test1.jpg rubberwhale1.png rubberwhale2.png smarties.png squirrel_cls.jpg stuff.jpg
  sudoku.png)
# opencv examples/hfs/data: three photographs (copied as hfs_000.jpg ...).
opencv_hfs=(000.jpg 001.jpg 002.jpg)

have_all() { # have_all DIR FILE... : true when every file exists in DIR
  local dir=$1; shift
  for f in "$@"; do [ -s "$dir/$f" ] || return 1; done
}

hfs_names=("${opencv_hfs[@]/#/hfs_}")
if have_all "$dest/skimage" "${skimage_photos[@]}" && have_all "$dest/opencv" "${opencv_photos[@]}" "${hfs_names[@]}"; then
  echo "$(( ${#skimage_photos[@]} + ${#opencv_photos[@]} + ${#opencv_hfs[@]} )) photos in $dest"
  exit 0
fi

mkdir -p "$dest/.debs" "$dest/skimage" "$dest/opencv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # fetch PACKAGE : the package's .deb in DEST/.debs (downloaded once)
  local deb
  deb=$(find "$dest/.debs" -maxdepth 1 -name "$1_*.deb" | head -1)
  if [ -z "$deb" ]; then
    # apt-get download writes into the current directory; the _apt sandbox user may not be able to write there,
    # which only produces a warning.
    (cd "$dest/.debs" && apt-get download "$1" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    deb=$(find "$dest/.debs" -maxdepth 1 -name "$1_*.deb" | head -1)
    [ -n "$deb" ] || { echo "fetch-photos: could not download $1 (is apt configured with Debian 12 sources? try apt-get update)" >&2; exit 1; }
  fi
  mkdir -p "$work/$1"
  dpkg -x "$deb" "$work/$1"
}

copy_listed() { # copy_listed SOURCE-DIR DEST-DIR PREFIX FILE...
  local src=$1 dst=$2 prefix=$3; shift 3
  for f in "$@"; do
    if [ -s "$src/$f" ]; then cp -p "$src/$f" "$dst/$prefix$f"
    else echo "fetch-photos: warning: $f not found in $src" >&2; fi
  done
}

fetch python3-skimage
copy_listed "$work/python3-skimage/usr/lib/python3/dist-packages/skimage/data" "$dest/skimage" "" "${skimage_photos[@]}"
fetch opencv-doc
copy_listed "$work/opencv-doc/usr/share/doc/opencv-doc/examples/data" "$dest/opencv" "" "${opencv_photos[@]}"
copy_listed "$work/opencv-doc/usr/share/doc/opencv-doc/examples/hfs/data" "$dest/opencv" "hfs_" "${opencv_hfs[@]}"

count=$(find "$dest/skimage" "$dest/opencv" -type f \( -name '*.png' -o -name '*.jpg' \) | wc -l)
echo "$count photos in $dest"
