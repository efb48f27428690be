function loss = style_loss(feats, style_layers, style_targets, style_weights)
% STYLE_LOSS  sum over l of w_l * sum((G_l - A_l).^2): the report's "风格损失" formula.
%   feats         cell array of the generated image's C x H x W features, one per layer
%   style_layers  indices into feats of the style layers
%   style_targets cell array of the target Gram matrices A_l (C x C), one per style layer
%   style_weights vector of the weights w_l, one per style layer
%
%   Fixed from the report: it read a layer as feats(:, style_layers(i), :),
%   which slices the middle dimension of one array instead of selecting a layer.
%   Layers have different shapes, so they live in a cell array: feats{l}.
  loss = 0;
  for i = 1:numel(style_layers)
    diffmat = gram_matrix(feats{style_layers(i)}) - style_targets{i};
    loss = loss + style_weights(i) * sum(diffmat(:) .^ 2);
  end
end
