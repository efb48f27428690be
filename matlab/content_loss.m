function loss = content_loss(content_weight, content_current, content_original)
% CONTENT_LOSS  w_c * sum((F - P).^2): the report's "内容损失" formula.
%   F (content_current) and P (content_original) are the C x H x W features of
%   the generated and of the content image at the content layer.
  diffmat = content_current - content_original;
  loss = content_weight * sum(diffmat(:) .^ 2);
end
