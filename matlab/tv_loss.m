function loss = tv_loss(img, tv_weight)
% TV_LOSS  Total variation: w_t * (sum of squared differences of vertical
%   neighbours + sum of squared differences of horizontal neighbours).
%   The report's "TV损失" formula. IMG is C x H x W (3 x H x W), so dimension 2
%   is the height and dimension 3 the width.
  down = img(:, 2:end, :) - img(:, 1:end-1, :);
  right = img(:, :, 2:end) - img(:, :, 1:end-1);
  loss = tv_weight * (sum(down(:) .^ 2) + sum(right(:) .^ 2));
end
